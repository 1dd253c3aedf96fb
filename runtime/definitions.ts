// The declarative surface of the runtime: `defineAsset`, `defineDefinitions`
// and the types an asset's `materialize(ctx)` and checks see. Nothing here runs
// anything; the executor does.
import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { RuntimeError } from './errors.ts';
import { assetKey, defaultInputName, type AssetKey, type PartitionKey } from './keys.ts';
import type { PartitionMapping } from './partition-mapping.ts';
import type { PartitionsDefinition } from './partitions.ts';
import type { DataVersion, CodeVersion } from './versions.ts';
import type { Logger } from './logger.ts';
import type { RefreshPolicy } from './refresh.ts';
import type { AssetRecords } from './store/asset-records.ts';
import type { AutomationPolicy, FreshnessPolicy } from './automation/types.ts';
import type { Sensor } from './automation/sensors.ts';
import { validateAutomation, validateFreshness } from './automation/validate.ts';
import { parseCron } from './automation/cron.ts';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** Free-form facts about a materialization (row counts, metrics, reports), stored and shown everywhere. */
export type Metadata = { [key: string]: JsonValue };

/**
 * How an asset's value is stored:
 * - `json`: a small JSON value;
 * - `table`: a Parquet file, written and read through DuckDB;
 * - `file`: an opaque binary artifact (a model file).
 */
export type IoKind = 'json' | 'table' | 'file';

/** One upstream partition an asset consumes. */
export interface ConsumedPartition {
  readonly partition: PartitionKey;
  readonly materializationId: number;
  readonly dataVersion: DataVersion;
  readonly location: string;
}

/** A handle to an upstream asset's consumed partitions; values are loaded only when asked for. */
export interface AssetInput {
  readonly asset: AssetKey;
  readonly io: IoKind;
  readonly partitions: readonly ConsumedPartition[];
  /** Local paths of the consumed partitions' files, in partition order (remote storage downloads them first). */
  paths(): Promise<string[]>;
  /** For a table input: a DuckDB table expression over every consumed partition, `read_parquet([...])`. */
  sql(): Promise<string>;
  /** For a json input of one partition: its value. */
  json<T = JsonValue>(): Promise<T>;
  /** For a json input: each consumed partition's value. */
  jsonByPartition<T = JsonValue>(): Promise<Map<PartitionKey, T>>;
  /** The metadata recorded with a consumed partition (the only one when not named). */
  metadata(partition?: PartitionKey): Metadata;
}

export interface StepContextBase<R> {
  readonly asset: AssetKey;
  readonly partition: PartitionKey;
  readonly runId: string;
  readonly resources: R;
  readonly log: Logger;
  /** Aborted when the run is canceled (SIGINT/SIGTERM): stop early, nothing will be published. */
  readonly signal: AbortSignal;
  /** A directory private to this step, removed when the step ends. */
  readonly tempDir: string;
  /**
   * The run was asked to rematerialize regardless of freshness (`materialize --force`). A check
   * that guards against a regression may take it as the operator accepting the change; it must
   * say so in its message.
   */
  readonly forced: boolean;
  /** A DuckDB connection (TimeZone UTC) private to this step. */
  duckdb(): Promise<DuckDBConnection>;
  /**
   * The lineage store's asset records (store/asset-records.ts): what assets keep beside their
   * materializations, once per key, read by partition. In the store, not under DATA_DIR, so a
   * step on a worker with a scratch DATA_DIR reads and writes the same records as the server.
   */
  readonly records: AssetRecords;
}

export interface AssetContext<R = unknown> extends StepContextBase<R> {
  /** Upstream inputs by name (the last segment of the key, or the dependency's `as`). */
  readonly inputs: Readonly<Record<string, AssetInput>>;
  input(name: string): AssetInput;
  /** The version this materialization will replace, if any. */
  readonly previous: { readonly dataVersion: DataVersion; readonly metadata: Metadata } | undefined;
}

/** What `materialize` returns, by io kind. */
export type MaterializeOutput =
  | { readonly value: JsonValue; readonly metadata?: Metadata }
  | { readonly sql: string; readonly metadata?: Metadata }
  | { readonly parquetFile: string; readonly metadata?: Metadata }
  | { readonly file: string | Uint8Array; readonly metadata?: Metadata };

/** The candidate version a check inspects before it is published. */
export interface CandidateOutput {
  readonly io: IoKind;
  /** Local path of the candidate file. */
  readonly path: string;
  readonly dataVersion: DataVersion;
  readonly metadata: Metadata;
  /** For tables: `read_parquet('<path>')`. */
  readonly sql: string;
  json<T = JsonValue>(): Promise<T>;
}

export interface CheckContext<R = unknown> extends StepContextBase<R> {
  readonly output: CandidateOutput;
}

export interface CheckOutcome {
  readonly passed: boolean;
  readonly message?: string;
  readonly metadata?: Metadata;
}

export interface AssetCheck<R = unknown> {
  readonly name: string;
  /** A failed blocking check keeps the new version from being published and skips everything downstream. Default true. */
  readonly blocking?: boolean;
  readonly description?: string;
  check(ctx: CheckContext<R>): Promise<CheckOutcome> | CheckOutcome;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** Delay before the second attempt; doubles each time. Default 1000 ms. */
  readonly backoffMs?: number;
}

export type DependencySpec = string | { readonly asset: string; readonly mapping?: PartitionMapping; readonly as?: string };

/** One partition of a batch step: what `materialize(ctx)` would see for it alone. */
export interface BatchMember {
  readonly partition: PartitionKey;
  /** Upstream inputs of this partition alone, by name. */
  readonly inputs: Readonly<Record<string, AssetInput>>;
  input(name: string): AssetInput;
  readonly previous: AssetContext['previous'];
}

export interface BatchContext<R = unknown> extends Omit<StepContextBase<R>, 'partition'> {
  /** The partitions this step materializes, in partition order (all of one value of any non-time dimension). */
  readonly members: readonly BatchMember[];
  /** Each input over every member's consumed partitions (each upstream partition once, in partition order). */
  readonly inputs: Readonly<Record<string, AssetInput>>;
  input(name: string): AssetInput;
}

/** A member's outcome: its output, or why this partition alone could not be made (the others still publish). */
export type BatchOutput = MaterializeOutput | { readonly error: Error };

/**
 * Materialize up to `maxPartitions` partitions of the asset in one step, as Dagster's backfill
 * policies do: for work whose fixed cost per call (a DuckDB query plan, a scan of the inputs)
 * dwarfs the cost per partition. Each partition is still its own materialization: its own
 * inputs, checks, data version and commit, so the store cannot tell a batch from single steps.
 * The output for a partition must not depend on which other partitions share its batch.
 */
export interface BatchPolicy<R = unknown> {
  readonly maxPartitions: number;
  materialize(ctx: BatchContext<R>): Promise<ReadonlyMap<PartitionKey, BatchOutput>>;
}

interface AssetSpecCommon<R> {
  readonly key: string;
  readonly deps?: readonly DependencySpec[];
  /** Bump it when the logic changes. Without it, a hash of `materialize`'s source is used. */
  readonly codeVersion?: string;
  readonly partitions?: PartitionsDefinition;
  readonly io?: IoKind;
  readonly checks?: readonly AssetCheck<R>[];
  readonly retry?: RetryPolicy;
  readonly description?: string;
  readonly group?: string;
  /**
   * Steps of assets that share a pool run one at a time within a run, whatever the
   * concurrency: for work that saturates the machine on its own (model training).
   */
  readonly pool?: string;
  /**
   * A source asset reads the outside world (files, an API) rather than other assets: when
   * a re-read finds different data, what consumed it is stale "because the source revised" it.
   */
  readonly source?: boolean;
  /** Re-read the last `trailing` partitions of the time dimension on every run, fresh or not (see runtime/refresh.ts). */
  readonly refresh?: RefreshPolicy;
  /** When the daemon materializes it on its own (see runtime/automation/policies.ts). */
  readonly automation?: AutomationPolicy;
  /** By when its data must exist; shown by `materialize status`, /metrics and the UI. */
  readonly freshness?: FreshnessPolicy;
}

/** An asset materializes one partition per step (`materialize`) or several (`batch`), never both. */
export type AssetSpec<R = unknown> = AssetSpecCommon<R> &
  (
    | { materialize(ctx: AssetContext<R>): Promise<MaterializeOutput> | MaterializeOutput; readonly batch?: undefined }
    | { readonly batch: BatchPolicy<R>; readonly materialize?: undefined }
  );

/** How the executor calls an asset's code. */
export type AssetRunner<R> =
  | { readonly kind: 'single'; materialize(ctx: AssetContext<R>): Promise<MaterializeOutput> | MaterializeOutput }
  | { readonly kind: 'batch'; readonly policy: BatchPolicy<R> };

export interface Dependency {
  readonly asset: AssetKey;
  readonly inputName: string;
  /** Undefined until the graph resolves the default for the pair of partitions definitions. */
  readonly mapping: PartitionMapping | undefined;
}

export interface AssetDefinition<R = unknown> {
  readonly key: AssetKey;
  readonly deps: readonly Dependency[];
  readonly codeVersion: CodeVersion;
  /** True when the code version is a hash of the function source rather than declared. */
  readonly codeVersionIsDerived: boolean;
  readonly partitions: PartitionsDefinition | undefined;
  readonly io: IoKind;
  readonly checks: readonly AssetCheck<R>[];
  readonly retry: RetryPolicy;
  readonly description: string;
  readonly group: string;
  readonly pool: string | undefined;
  readonly source: boolean;
  readonly refresh: RefreshPolicy | undefined;
  readonly automation: AutomationPolicy | undefined;
  readonly freshness: FreshnessPolicy | undefined;
  readonly runner: AssetRunner<R>;
}

export function defineAsset<R = unknown>(spec: AssetSpec<R>): AssetDefinition<R> {
  const key = assetKey(spec.key);
  const runner = runnerOf(key, spec);
  const deps: Dependency[] = (spec.deps ?? []).map((d) => {
    const raw = typeof d === 'string' ? { asset: d } : d;
    const upstream = assetKey(raw.asset);
    return { asset: upstream, inputName: raw.as ?? defaultInputName(upstream), mapping: raw.mapping };
  });
  const names = new Set<string>();
  for (const d of deps) {
    if (names.has(d.inputName)) {
      throw new RuntimeError('invalid-definition', `Asset ${key} has two inputs named "${d.inputName}"; give one an alias with { asset, as }.`);
    }
    names.add(d.inputName);
  }
  const retry = spec.retry ?? { maxAttempts: 1 };
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
    throw new RuntimeError('invalid-definition', `Asset ${key}: retry.maxAttempts must be a whole number >= 1.`);
  }
  const checkNames = new Set<string>();
  for (const c of spec.checks ?? []) {
    if (checkNames.has(c.name)) throw new RuntimeError('invalid-definition', `Asset ${key} has two checks named "${c.name}".`);
    checkNames.add(c.name);
  }
  if (spec.refresh !== undefined) {
    const n = spec.refresh.trailing;
    if (!Number.isInteger(n) || n < 0) throw new RuntimeError('invalid-definition', `Asset ${key}: refresh.trailing must be a whole number >= 0, got ${n}.`);
    if (!spec.partitions) throw new RuntimeError('invalid-definition', `Asset ${key}: refresh re-reads trailing partitions, but the asset is not partitioned.`);
  }
  if (spec.automation !== undefined) validateAutomation(key, spec.automation);
  if (spec.freshness !== undefined) validateFreshness(key, spec.freshness, spec.partitions?.kind);
  const derived = spec.codeVersion === undefined;
  return {
    key,
    deps,
    codeVersion: (spec.codeVersion ?? sourceHash(runner.kind === 'single' ? runner.materialize : runner.policy.materialize)) as CodeVersion,
    codeVersionIsDerived: derived,
    partitions: spec.partitions,
    io: spec.io ?? 'json',
    checks: spec.checks ?? [],
    retry,
    description: spec.description ?? '',
    group: spec.group ?? 'default',
    pool: spec.pool,
    source: spec.source ?? false,
    refresh: spec.refresh,
    automation: spec.automation,
    freshness: spec.freshness,
    runner,
  };
}

function runnerOf<R>(key: AssetKey, spec: AssetSpec<R>): AssetRunner<R> {
  if (spec.batch !== undefined) {
    if (spec.materialize !== undefined)
      throw new RuntimeError('invalid-definition', `Asset ${key} has both materialize(ctx) and batch; give one (batch materializes single partitions too).`);
    const n = spec.batch.maxPartitions;
    if (!Number.isInteger(n) || n < 1) throw new RuntimeError('invalid-definition', `Asset ${key}: batch.maxPartitions must be a whole number >= 1, got ${n}.`);
    if (typeof spec.batch.materialize !== 'function') throw new RuntimeError('invalid-definition', `Asset ${key}: batch has no materialize(ctx) function.`);
    if (!spec.partitions) throw new RuntimeError('invalid-definition', `Asset ${key}: batch groups partitions, but the asset is not partitioned.`);
    return { kind: 'batch', policy: spec.batch };
  }
  if (typeof spec.materialize !== 'function') throw new RuntimeError('invalid-definition', `Asset ${key} has no materialize(ctx) function.`);
  return { kind: 'single', materialize: spec.materialize };
}

function sourceHash(fn: (...args: never[]) => unknown): string {
  return 'src-' + createHash('sha256').update(fn.toString()).digest('hex').slice(0, 12);
}

export interface Schedule {
  readonly name: string;
  /** Cron expression, e.g. "30 14 * * *". */
  readonly cron: string;
  readonly timezone?: string;
  /** A selection string, as the CLI takes. */
  readonly selection: string;
  /**
   * The daily partition each run materializes: the due time's local day plus this many days
   * (0: "today's partition at 14:00", 1: tomorrow's). Without it, the planner's default.
   */
  readonly partitionDay?: number;
  /** Run every selected step, fresh or not. Default false: what is missing or stale. */
  readonly force?: boolean;
  readonly description?: string;
}

/**
 * What a definitions module is given when its default export is a function: the settings the
 * runtime's one loader (runtime/settings.ts) read, as values. A module reads no environment of
 * its own; `env` is the variables it was started with, for its own settings (the PJM pipeline
 * parses PJM_* from it in assets/pjm/config.ts).
 */
export interface DefinitionsOptions {
  /** The absolute data root (--data-dir, DATA_DIR or ./data): where files outside the store go (exported models). */
  readonly dataDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Definitions<R = unknown> {
  readonly assets: readonly AssetDefinition<R>[];
  readonly resources: R;
  readonly schedules: readonly Schedule[];
  readonly sensors: readonly Sensor<R>[];
}

export function defineDefinitions<R>(defs: {
  assets: readonly AssetDefinition<R>[];
  resources?: R;
  schedules?: readonly Schedule[];
  sensors?: readonly Sensor<R>[];
}): Definitions<R> {
  const seen = new Set<string>();
  for (const a of defs.assets) {
    if (seen.has(a.key)) throw new RuntimeError('duplicate-asset', `Asset ${a.key} is defined twice.`);
    seen.add(a.key);
  }
  // Schedules and sensors share one namespace: their names key cursors and ticks in the store.
  const names = new Set<string>();
  for (const s of [...(defs.schedules ?? []), ...(defs.sensors ?? [])]) {
    if (names.has(s.name)) throw new RuntimeError('invalid-definition', `Two schedules or sensors are named ${JSON.stringify(s.name)}; names must be unique.`);
    names.add(s.name);
  }
  for (const s of defs.schedules ?? []) {
    parseCron(`Schedule ${s.name}`, s.cron, s.timezone ?? 'UTC');
    if (s.partitionDay !== undefined && !Number.isInteger(s.partitionDay))
      throw new RuntimeError('invalid-definition', `Schedule ${s.name}: partitionDay must be a whole number of days.`);
  }
  return { assets: defs.assets, resources: (defs.resources ?? {}) as R, schedules: defs.schedules ?? [], sensors: defs.sensors ?? [] };
}
