// JSON Schemas (TypeBox) of the UI's /api requests and responses: the OpenAPI
// document publishes them and the request validator compiles them, so the docs
// and the checks are the same thing.
import { Type as T, type TSchema } from '@sinclair/typebox';
import { SafeInteger } from '../schemas.ts';

const Nullable = <S extends TSchema>(s: S) => T.Union([s, T.Null()]);
const Json = T.Unknown({ description: 'Free-form JSON' });
const MetadataSchema = T.Record(T.String(), Json, { description: 'Free-form facts stored with the materialization (row counts, metrics, reports).' });

export const UiStatusSchema = T.Union([T.Literal('fresh'), T.Literal('stale'), T.Literal('missing'), T.Literal('failed'), T.Literal('running')], {
  description:
    'fresh: up to date; stale: inputs or code changed since; missing: never materialized; failed: the latest attempt failed or was blocked; running: being materialized now.',
});

export const StatusCountsSchema = T.Object({
  total: T.Integer(),
  fresh: T.Integer(),
  stale: T.Integer(),
  missing: T.Integer(),
  failed: T.Integer(),
  running: T.Integer(),
});

const FreshnessViewSchema = Nullable(
  T.Object(
    {
      state: T.Union([T.Literal('on_time'), T.Literal('late'), T.Literal('unknown')]),
      reason: T.String({ description: 'The verdict in words: which partition was due by when, and when it was materialized or how late it is.' }),
      partition: Nullable(T.String()),
      deadline: Nullable(T.Integer({ description: 'ms since epoch' })),
    },
    { description: 'Against the deadline the asset declares (freshness); null when it declares none.' },
  ),
);

const CauseSchema = T.Object({
  text: T.String({ description: 'The cause as a sentence.' }),
  partitions: T.Integer({ description: 'How many partitions it concerns.' }),
});

export const GraphNodeSchema = T.Object({
  key: T.String(),
  group: T.String(),
  description: T.String(),
  io: T.String(),
  partitions: Nullable(T.String({ description: 'e.g. "daily from 2016-01-01"' })),
  codeVersion: T.String(),
  status: UiStatusSchema,
  counts: StatusCountsSchema,
  causes: T.Array(CauseSchema),
  moreCauses: T.Integer(),
  lastMaterializedAt: Nullable(T.Integer({ description: 'ms since epoch' })),
  dataVersion: Nullable(T.String()),
  freshness: FreshnessViewSchema,
});

export const GraphViewSchema = T.Object({
  generatedAt: T.Integer(),
  nodes: T.Array(GraphNodeSchema, { description: 'Upstream before downstream.' }),
  edges: T.Array(T.Object({ from: T.String(), to: T.String(), mapping: T.String() })),
  totals: T.Record(T.String(), T.Integer(), { description: 'Assets per status.' }),
  activeRuns: T.Array(T.Object({ id: T.String(), selection: T.String(), startedAt: T.Integer(), trigger: T.String() })),
});

const CheckViewSchema = T.Object({
  name: T.String(),
  blocking: T.Boolean(),
  passed: T.Boolean(),
  message: T.String(),
  metadata: MetadataSchema,
});

export const HistoryEntrySchema = T.Object({
  id: T.Integer(),
  partition: T.String(),
  runId: T.String(),
  status: T.String({ description: "'published', or 'blocked' when a blocking check failed" }),
  startedAt: T.Integer(),
  endedAt: T.Integer(),
  durationMs: T.Integer(),
  dataVersion: T.String(),
  codeVersion: T.String(),
  metadata: MetadataSchema,
  checks: T.Array(CheckViewSchema),
});

const NumOrNull = Nullable(T.Number());

export const ModelViewSchema = T.Object({
  market: Nullable(T.String()),
  window: Nullable(T.Record(T.String(), Json)),
  featureCount: Nullable(T.Integer()),
  members: T.Array(
    T.Object({
      name: T.String(),
      rounds: NumOrNull,
      bestIteration: NumOrNull,
      learningCurve: T.Object({ train: T.Array(NumOrNull), valid: T.Array(NumOrNull) }),
    }),
  ),
  importance: T.Array(T.Object({ feature: T.String(), gain: T.Number() })),
  metrics: Nullable(T.Record(T.String(), Json)),
  trainedAt: Nullable(T.String()),
});

export const BacktestViewSchema = T.Object({
  market: Nullable(T.String()),
  testFirstDay: Nullable(T.String()),
  testLastDay: Nullable(T.String()),
  hours: NumOrNull,
  retrains: NumOrNull,
  comparison: T.Array(T.Object({ name: T.String(), mae: NumOrNull, rmse: NumOrNull, smape: NumOrNull, rmae: NumOrNull })),
  byHour: T.Array(T.Object({ hour: T.Integer(), mae: NumOrNull, naiveMae: NumOrNull })),
  byNode: T.Array(T.Object({ node: T.String(), mae: NumOrNull, rmae: NumOrNull, n: NumOrNull })),
});

export const AssetViewSchema = T.Object({
  key: T.String(),
  description: T.String(),
  group: T.String(),
  io: T.String(),
  codeVersion: T.String(),
  codeVersionIsDerived: T.Boolean(),
  partitions: Nullable(T.Object({ kind: T.String(), description: T.String() })),
  deps: T.Array(T.Object({ asset: T.String(), mapping: T.String() })),
  children: T.Array(T.String()),
  checks: T.Array(T.Object({ name: T.String(), blocking: T.Boolean(), description: T.String() })),
  status: UiStatusSchema,
  counts: StatusCountsSchema,
  causes: T.Array(CauseSchema),
  freshness: FreshnessViewSchema,
  current: Nullable(
    T.Object({
      materializationId: T.Integer(),
      partition: T.String(),
      dataVersion: T.String(),
      codeVersion: T.String(),
      runId: T.String(),
      endedAt: T.Integer(),
    }),
  ),
  history: T.Array(HistoryEntrySchema),
  latestChecks: Nullable(T.Object({ materializationId: T.Integer(), partition: T.String(), results: T.Array(CheckViewSchema) })),
  views: T.Object({
    model: T.Optional(ModelViewSchema),
    modelProblem: T.Optional(
      T.String({ description: "Why the metadata's model sidecar cannot be shown: the materialization, the field and what is wrong with it." }),
    ),
    backtest: T.Optional(BacktestViewSchema),
    backtestAsset: T.Optional(T.String({ description: 'The asset the backtest belongs to, when not this one (a model page shows its backtest).' })),
  }),
});

export const PartitionsViewSchema = T.Object({
  asset: T.String(),
  counts: StatusCountsSchema,
  matching: T.Integer({ description: 'Partitions matching the status filter, before paging.' }),
  dimension: Nullable(
    T.Object(
      {
        name: T.String({ description: 'The dimension that is not time, e.g. node.' }),
        values: T.Array(T.Object({ value: T.String(), counts: StatusCountsSchema })),
      },
      { description: 'For a two-dimensional asset: the status counts of each value of its non-time dimension (null for one-dimensional assets).' },
    ),
  ),
  partitions: T.Array(
    T.Object({
      partition: T.String(),
      label: T.String(),
      status: UiStatusSchema,
      causes: T.Array(T.String()),
      materializationId: Nullable(T.Integer()),
      dataVersion: Nullable(T.String()),
      endedAt: Nullable(T.Integer()),
    }),
  ),
});

export const ForecastVsActualSchema = T.Object({
  nodes: T.Array(T.String()),
  weeks: T.Array(T.String({ description: 'Monday of the week, YYYY-MM-DD' })),
  node: Nullable(T.String()),
  week: Nullable(T.String()),
  hours: T.Array(
    T.Object({
      node: T.String(),
      day: T.String(),
      hour: T.Integer(),
      actual: NumOrNull,
      forecast: NumOrNull,
      naive: NumOrNull,
      interval50: T.Optional(
        T.Tuple([T.Number(), T.Number()], {
          description:
            "The forecast's 50 % interval [q25, q75], $/MWh: the backtest's online conformal quantiles (absent without them, e.g. in its warm-up days).",
        }),
      ),
      interval90: T.Optional(T.Tuple([T.Number(), T.Number()], { description: 'The 90 % interval [q05, q95], $/MWh.' })),
    }),
  ),
});

const LineageEntrySchema = T.Object({
  id: T.Integer(),
  asset: T.String(),
  partition: T.String(),
  dataVersion: T.String(),
  codeVersion: T.String(),
  runId: T.String(),
  endedAt: T.Integer(),
  status: T.String(),
});

// A recursive tree: each entry's groups hold the entries it consumed (or that consumed it).
// The recursion goes through the named component, registered as LINEAGE_GROUP_NAME.
export const LINEAGE_GROUP_NAME = 'UiLineageGroup';
const LineageGroupRef = T.Unsafe<unknown>({ $ref: `#/components/schemas/${LINEAGE_GROUP_NAME}` });
export const LineageGroupSchema = T.Object({
  asset: T.String(),
  count: T.Integer({ description: 'Partitions of this asset in the group (only the latest few are listed).' }),
  firstPartition: T.String(),
  lastPartition: T.String(),
  entries: T.Array(T.Intersect([LineageEntrySchema, T.Object({ groups: T.Array(LineageGroupRef) })])),
});

export const LineageViewSchema = T.Object({
  materialization: T.Intersect([HistoryEntrySchema, T.Object({ asset: T.String(), current: T.Boolean() })]),
  lineage: T.Object({ root: LineageEntrySchema, upstream: T.Array(LineageGroupRef), downstream: T.Array(LineageGroupRef) }),
});

export const RunStatusSchema = T.Union([T.Literal('running'), T.Literal('succeeded'), T.Literal('failed'), T.Literal('canceled')]);

export const RunSummarySchema = T.Object({
  id: T.String(),
  selection: T.String(),
  partitions: Nullable(T.String()),
  status: RunStatusSchema,
  trigger: T.String(),
  startedAt: T.Integer(),
  endedAt: Nullable(T.Integer()),
  durationMs: Nullable(T.Integer()),
  error: Nullable(T.String()),
  summary: Nullable(T.Record(T.String(), Json)),
});

export const EventSchema = T.Object({
  id: T.Integer({ description: 'Increasing; pass the last one seen as afterId.' }),
  runId: T.String(),
  ts: T.Integer(),
  level: T.String(),
  type: T.String({ description: 'run_started, step_started, step_materialized, step_failed, check_evaluated, log, run_finished, ...' }),
  asset: Nullable(T.String()),
  partition: Nullable(T.String()),
  message: T.String(),
  data: Nullable(T.Record(T.String(), Json)),
});

export const RunProgressSchema = T.Object({
  planned: T.Integer(),
  done: T.Integer(),
  running: T.Integer(),
  materialized: T.Integer(),
  failed: T.Integer(),
  blocked: T.Integer(),
  skipped: T.Integer(),
});

export const RunViewSchema = T.Object({
  run: RunSummarySchema,
  progress: RunProgressSchema,
  materializations: T.Array(
    T.Object({ id: T.Integer(), asset: T.String(), partition: T.String(), status: T.String(), dataVersion: T.String(), durationMs: T.Integer() }),
  ),
  events: T.Array(EventSchema),
  lastEventId: T.Integer(),
});

export const RunEventsSchema = T.Object({
  run: RunSummarySchema,
  progress: RunProgressSchema,
  events: T.Array(EventSchema),
  lastEventId: T.Integer(),
});

// ---- requests -------------------------------------------------------------------

export const AssetKeyParams = T.Object({
  key: T.String({ description: 'Asset key with "/" escaped as %2F, e.g. pjm%2Fmodel', minLength: 1 }),
});

export const PartitionsQuery = T.Object({
  status: T.Optional(UiStatusSchema),
  partition: T.Optional(
    T.String({ maxLength: 2000, description: 'A filter written as for `materialize -p`: a key, FROM...TO, a list, or node=A,day=FROM...TO.' }),
  ),
  limit: T.Optional(SafeInteger({ minimum: 1, maximum: 5000, default: 200 })),
  offset: T.Optional(SafeInteger({ minimum: 0, default: 0 })),
});

export const PredictionsQuery = T.Object({
  node: T.Optional(T.String({ description: 'Node id; default the first node.' })),
  // format "date": a real calendar day (2018-13-01 and 9999-99-99 are refused, naming query/week).
  week: T.Optional(T.String({ format: 'date', description: 'Any day of the week (YYYY-MM-DD); default the last week.' })),
});

export const MaterializationParams = T.Object({ id: SafeInteger({ minimum: 1 }) });
export const LineageQuery = T.Object({
  depth: T.Optional(SafeInteger({ minimum: 1, maximum: 10, default: 4 })),
  perGroup: T.Optional(SafeInteger({ minimum: 1, maximum: 50, default: 5, description: 'Entries listed per upstream asset (the latest partitions).' })),
});

export const RunsQuery = T.Object({
  limit: T.Optional(SafeInteger({ minimum: 1, maximum: 500, default: 50 })),
  offset: T.Optional(SafeInteger({ minimum: 0, default: 0 })),
  status: T.Optional(RunStatusSchema),
});

export const RunParams = T.Object({ id: T.String({ minLength: 1 }) });
export const EventsQuery = T.Object({
  afterId: T.Optional(SafeInteger({ minimum: 0, default: 0, description: 'Only events with a larger id.' })),
  limit: T.Optional(SafeInteger({ minimum: 1, maximum: 10000, default: 2000 })),
});

export const MaterializeBody = T.Object(
  {
    selection: T.String({ minLength: 1, description: 'Asset key, or a selection: `key`, `group:name`, comma lists.' }),
    mode: T.Union([T.Literal('with-upstream'), T.Literal('stale-only'), T.Literal('force')], {
      description:
        'with-upstream: the selection and everything upstream, running what is missing or stale; stale-only: only the selected assets, only what is missing or stale; force: every partition of the selected assets.',
    }),
    partitions: T.Optional(T.String({ minLength: 1, description: 'As the CLI --partition: a key, FROM...TO, or a comma list.' })),
  },
  { additionalProperties: false },
);

export const MaterializeStartedSchema = T.Object({
  runId: T.String(),
  selection: T.String({ description: 'The selection run, with upstream expanded.' }),
  force: T.Boolean(),
  planned: T.Object({ run: T.Integer(), conditional: T.Integer(), skip: T.Integer() }),
  state: T.Union([T.Literal('started'), T.Literal('queued')], { description: '"queued": waiting for its turn in the run queue' }),
  waiting: T.Optional(T.String({ description: 'Why a queued run waits, e.g. "2 runs are running, the most allowed at once (RUN_QUEUE_MAX_CONCURRENT=2)"' })),
  links: T.Object({ run: T.String(), events: T.String(), stream: T.String() }),
});

export const QueueViewSchema = T.Object({
  runs: T.Array(
    T.Object({
      runId: T.String(),
      state: T.Union([T.Literal('queued'), T.Literal('running')]),
      trigger: T.String(),
      selection: T.String(),
      partitions: Nullable(T.String()),
      pools: T.Array(T.String()),
      enqueuedAt: T.Integer({ description: 'ms since epoch' }),
      waiting: Nullable(T.String({ description: 'Why it waits, for a run queued by this server process' })),
    }),
    { description: 'Oldest first.' },
  ),
});

export const RunsListSchema = T.Object({ runs: T.Array(RunSummarySchema) });

export const CancelRunSchema = T.Object({ runId: T.String(), canceling: T.Literal(true) });

const ScoreFigures = {
  mae: Nullable(T.Number({ description: 'MAE, $/MWh' })),
  rmae: Nullable(T.Number({ description: "MAE over the backtest's naive forecast's MAE on the same hours" })),
  coverage50: Nullable(T.Number({ description: 'Share of hours inside the 50 % central interval (hours with quantiles only)' })),
  coverage90: Nullable(T.Number({ description: 'Share of hours inside the 90 % central interval' })),
  hours: T.Integer({ description: 'Hours scored' }),
};

export const ForecastScoresSchema = T.Object({
  asset: Nullable(T.String({ description: 'The scoring asset (pjm/forecast_score), null when the definitions have none.' })),
  days: T.Array(
    T.Object({
      day: T.String(),
      materializationId: T.Integer(),
      market: Nullable(T.String()),
      ...ScoreFigures,
      forecasts: T.Integer({ description: 'Kept forecasts of the day that were scored' }),
      unscored: T.Integer({ description: 'Kept forecasts of the day that could not be (the summary says why)' }),
      summary: T.String(),
    }),
    { description: 'Days with a kept forecast, oldest first.' },
  ),
  rolling: T.Array(T.Object({ windowDays: T.Integer(), endDay: T.String(), scoredDays: T.Integer(), ...ScoreFigures }, { additionalProperties: true }), {
    description: 'Pooled over the window of calendar days ending at the latest scored day.',
  }),
  pending: T.Array(
    T.Object({
      day: T.String(),
      nodeId: T.Integer(),
      market: T.String(),
      origin: T.String(),
      modelVersion: T.String(),
      issuedAt: T.Integer(),
      reason: T.String(),
    }),
    { description: 'Kept forecasts of days not scored yet, newest first, with why.' },
  ),
});
