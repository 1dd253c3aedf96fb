// The web UI's JSON API under /api (graph, assets, partitions, lineage, runs,
// live events, materialize) and the static front end at `/`, as one route
// module of the server. Every /api route is documented in the OpenAPI document
// from the schemas in ./schemas.ts. The mutating routes (POST /api/materialize,
// POST /api/runs/:id/cancel) are guarded by the app's auth whenever
// SERVING_API_TOKEN is set; reads stay open, as for the rest of the server.
import type { Router, RouterContext } from '@koa/router';
import { isRuntimeError, type AssetKey, type Instance, type JsonValue } from '../../runtime/index.ts';
import { addRoute, HttpError, type OpenApiRegistry, type RouteModule, type ServerDeps } from '../routes.ts';
import { assetView, partitionsView } from './asset-view.ts';
import { streamRunEvents } from './event-stream.ts';
import { lineageView } from './lineage-view.ts';
import { forecastVsActual } from './model-view.ts';
import { listRunsView, runSummary, runView } from './runs-view.ts';
import * as S from './schemas.ts';
import { registerStaticUi } from './static-files.ts';
import { UiState } from './ui-state.ts';

const TAG = 'ui';

function assetKeyOrThrow(instance: Instance<unknown>, raw: string): AssetKey {
  if (!instance.graph.has(raw)) {
    throw new HttpError(404, 'not_found', `No asset ${JSON.stringify(raw)} is defined. GET /api/graph lists the asset keys (escape "/" as %2F in the path).`);
  }
  return raw;
}

/** Selection and partition mistakes are the caller's: a 400 that repeats the runtime's explanation. */
function asHttpError(err: unknown): unknown {
  if (isRuntimeError(err)) return new HttpError(400, 'bad_request', err.message, { reason: err.reason });
  return err;
}

/** Registers the /api routes and the static UI on `router` (the module's body; tests may call it directly). */
export function registerUiApi(router: Router, spec: OpenApiRegistry, state: UiState): void {
  const { instance } = state;
  spec.tag(TAG, 'The web lineage UI: asset graph, status with causes, lineage, runs and their live events, materialize.');
  spec.schema(S.LINEAGE_GROUP_NAME, S.LineageGroupSchema);

  addRoute(router, spec, {
    method: 'get',
    path: '/api/graph',
    operationId: 'uiGraph',
    tags: [TAG],
    summary: 'Every asset with its status, partition counts and causes, and every dependency edge',
    description: 'Reused until the store changes, so polling it is cheap at 1,000 assets; with If-None-Match, an unchanged graph is a 304.',
    responses: {
      200: { description: 'The asset graph', schema: S.GraphViewSchema, schemaName: 'UiGraph' },
      304: { description: 'Unchanged since the ETag given in If-None-Match.' },
    },
    handler: async (ctx) => {
      const { token, value } = await state.graphWithToken();
      const etag = `W/"${token}"`;
      ctx.set('ETag', etag);
      ctx.set('Cache-Control', 'no-cache');
      if (ctx.get('If-None-Match') === etag) {
        ctx.status = 304;
        return;
      }
      ctx.body = value;
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/assets/:key',
    operationId: 'uiAsset',
    tags: [TAG],
    summary: 'One asset: definition, current version, status with causes, history with checks, model views',
    params: S.AssetKeyParams,
    responses: { 200: { description: 'The asset', schema: S.AssetViewSchema, schemaName: 'UiAsset' } },
    errors: { 404: 'No such asset.' },
    handler: async (ctx, { params }) => {
      const key = assetKeyOrThrow(instance, params.key);
      const view = await assetView(instance, await state.activity(), key, state.clock());
      if (view.views.backtest && view.current) {
        ctx.body = { ...view, views: { ...view.views, backtest: await state.fullBacktest(key, view.current.materializationId, view.views.backtest) } };
      } else if (view.views.model) {
        // A model's page also shows how it did: the backtest of its group, when there is one.
        const related = await state.groupBacktest(key);
        ctx.body = related ? { ...view, views: { ...view.views, backtest: related.view, backtestAsset: related.asset } } : view;
      } else {
        ctx.body = view;
      }
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/assets/:key/partitions',
    operationId: 'uiAssetPartitions',
    tags: [TAG],
    summary: "An asset's partitions (newest first) with status and causes, optionally of one status",
    params: S.AssetKeyParams,
    query: S.PartitionsQuery,
    responses: { 200: { description: 'The partitions', schema: S.PartitionsViewSchema, schemaName: 'UiPartitions' } },
    errors: { 404: 'No such asset.' },
    handler: async (ctx, { params, query }) => {
      const key = assetKeyOrThrow(instance, params.key);
      try {
        ctx.body = await partitionsView(instance, await state.activity(), key, state.clock(), query);
      } catch (err) {
        throw asHttpError(err);
      }
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/assets/:key/predictions',
    operationId: 'uiAssetPredictions',
    tags: [TAG],
    summary: "Forecast versus actual for one node and week, from a backtest asset's stored predictions",
    params: S.AssetKeyParams,
    query: S.PredictionsQuery,
    responses: { 200: { description: 'The chosen node and week, and the nodes and weeks available', schema: S.ForecastVsActualSchema, schemaName: 'UiForecastVsActual' } },
    errors: { 404: 'No such asset, it has no current version, or its value holds no predictions.' },
    handler: async (ctx, { params, query }) => {
      const key = assetKeyOrThrow(instance, params.key);
      const current = await instance.store.current(key, '');
      if (!current) throw new HttpError(404, 'not_found', `${key} has no current version yet; materialize it first.`);
      const m = await instance.store.materialization(current.id);
      const hours = await state.predictions(key, current.id, (m?.metadata ?? null) as JsonValue);
      if (!hours) {
        throw new HttpError(404, 'not_found', `${key}'s current version (materialization ${current.id}) holds no predictions: expected an array of {nodeId, day, hour, actual, forecast}.`);
      }
      ctx.body = forecastVsActual(hours, query);
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/materializations/:id/lineage',
    operationId: 'uiLineage',
    tags: [TAG],
    summary: 'One materialization, its checks, what it consumed (recursively) and what consumed it',
    params: S.MaterializationParams,
    query: S.LineageQuery,
    responses: { 200: { description: 'The lineage', schema: S.LineageViewSchema, schemaName: 'UiLineage' } },
    errors: { 404: 'No such materialization.' },
    handler: async (ctx, { params, query }) => {
      const view = await lineageView(instance, params.id, { depth: query.depth, maxPerGroup: query.perGroup });
      if (!view) throw new HttpError(404, 'not_found', `No materialization ${params.id}; ids are listed in GET /api/assets/{key} history.`);
      ctx.body = view;
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/runs',
    operationId: 'uiRuns',
    tags: [TAG],
    summary: 'Runs, newest first',
    query: S.RunsQuery,
    responses: { 200: { description: 'The runs', schema: S.RunsListSchema, schemaName: 'UiRuns' } },
    handler: async (ctx, { query }) => {
      ctx.body = { runs: await listRunsView(instance, query) };
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/runs/:id',
    operationId: 'uiRun',
    tags: [TAG],
    summary: 'One run: progress, what it materialized, and its event log',
    params: S.RunParams,
    responses: { 200: { description: 'The run', schema: S.RunViewSchema, schemaName: 'UiRun' } },
    errors: { 404: 'No such run.' },
    handler: async (ctx, { params }) => {
      const view = await runView(instance, params.id, { progress: await state.progress(params.id) });
      if (!view) throw new HttpError(404, 'not_found', `No run ${params.id}; GET /api/runs lists them.`);
      ctx.body = view;
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/runs/:id/events',
    operationId: 'uiRunEvents',
    tags: [TAG],
    summary: "A run's events after afterId (for polling), with its status and progress",
    params: S.RunParams,
    query: S.EventsQuery,
    responses: { 200: { description: 'New events', schema: S.RunEventsSchema, schemaName: 'UiRunEvents' } },
    errors: { 404: 'No such run.' },
    handler: async (ctx, { params, query }) => {
      const run = await instance.store.getRun(params.id);
      if (!run) throw new HttpError(404, 'not_found', `No run ${params.id}; GET /api/runs lists them.`);
      const after = query.afterId ?? 0;
      const events = await instance.store.events(params.id, { afterId: after, limit: query.limit ?? 2000 });
      ctx.body = { run: runSummary(run), progress: await state.progress(params.id), events, lastEventId: events.length > 0 ? events[events.length - 1]!.id : after };
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/runs/:id/stream',
    operationId: 'uiRunStream',
    tags: [TAG],
    summary: "A run's events as server-sent events, live until the run ends",
    description:
      'Events: `run-event` (id = event id, data = the event), `progress` (run and progress), `end` (the run finished). ' +
      'Resumes after the Last-Event-ID header or ?afterId. The stream closes itself every 5 s; EventSource reconnects.',
    params: S.RunParams,
    query: S.EventsQuery,
    responses: { 200: { description: 'An event stream', contentType: 'text/event-stream' } },
    errors: { 404: 'No such run.' },
    handler: async (ctx, { params, query }) => {
      if (!(await instance.store.getRun(params.id))) throw new HttpError(404, 'not_found', `No run ${params.id}; GET /api/runs lists them.`);
      const lastEventId = Number(ctx.get('Last-Event-ID'));
      const afterId = Number.isInteger(lastEventId) && lastEventId > 0 ? lastEventId : (query.afterId ?? 0);
      streamRunEvents(ctx as RouterContext, state, params.id, afterId);
    },
  });

  addRoute(router, spec, {
    method: 'post',
    path: '/api/materialize',
    operationId: 'uiMaterialize',
    tags: [TAG],
    summary: 'Queue a materialization, run by the server process when its turn comes; answers with the run id at once',
    description:
      'state "started": it runs now, follow it with GET /api/runs/{id}/stream; state "queued": it waits behind other runs (RUN_QUEUE_MAX_CONCURRENT, RUN_QUEUE_POOL_LIMITS), `waiting` says why, GET /api/queue lists the queue. Needs the bearer token when SERVING_API_TOKEN is set.',
    body: S.MaterializeBody,
    bodyName: 'UiMaterializeRequest',
    responses: { 202: { description: 'The run started or was queued', schema: S.MaterializeStartedSchema, schemaName: 'UiMaterializeStarted' } },
    handler: async (ctx, { body }) => {
      let started: Awaited<ReturnType<typeof state.launcher.start>>;
      try {
        started = await state.launcher.start(body);
      } catch (err) {
        throw asHttpError(err);
      }
      const base = `/api/runs/${encodeURIComponent(started.runId)}`;
      ctx.status = 202;
      ctx.body = { ...started, links: { run: base, events: `${base}/events`, stream: `${base}/stream` } };
    },
  });

  addRoute(router, spec, {
    method: 'post',
    path: '/api/runs/:id/cancel',
    operationId: 'uiCancelRun',
    tags: [TAG],
    summary: 'Cancel a queued run (from any process), or a run started from the UI in this server process',
    description: 'A queued run never starts. Of a running one, steps in progress are abandoned and nothing they wrote is published; the run ends as canceled. Needs the bearer token when SERVING_API_TOKEN is set.',
    params: S.RunParams,
    responses: { 202: { description: 'Cancellation requested; the run ends shortly', schema: S.CancelRunSchema, schemaName: 'UiCancelRun' } },
    errors: { 404: 'No such run.', 409: 'The run is not in progress in this server process (finished, or started by the CLI or another server).' },
    handler: async (ctx, { params }) => {
      // A queued run (from any process) never starts; the process waiting for it sees that.
      if ((await instance.store.cancelQueuedRun(params.id)).canceled) {
        state.launcher.cancel(params.id);
        ctx.status = 202;
        ctx.body = { runId: params.id, canceling: true };
        return;
      }
      const run = await instance.store.getRun(params.id);
      if (!run) throw new HttpError(404, 'not_found', `No run ${params.id}; GET /api/runs lists them.`);
      if (!state.launcher.cancel(params.id)) {
        throw new HttpError(
          409,
          'bad_request',
          run.status === 'running'
            ? `Run ${params.id} was started by ${run.trigger === 'ui' ? 'another server process' : `the ${run.trigger}`} on ${run.host} (pid ${run.pid}); stop it there.`
            : `Run ${params.id} is not in progress (it ${run.status}).`,
        );
      }
      ctx.status = 202;
      ctx.body = { runId: params.id, canceling: true };
    },
  });

  addRoute(router, spec, {
    method: 'get',
    path: '/api/queue',
    operationId: 'uiQueue',
    tags: [TAG],
    summary: 'The run queue: runs waiting for their turn and runs launched from it that are still running, oldest first',
    responses: { 200: { description: 'The queue', schema: S.QueueViewSchema, schemaName: 'UiQueue' } },
    handler: async (ctx) => {
      const rows = await instance.store.runQueue({ states: ['queued', 'launched'] });
      // A launched row stays listed while its run runs, or is about to be recorded (just claimed).
      const ended = new Set<string>();
      for (const q of rows) if (q.state === 'launched' && ((await instance.store.getRun(q.runId))?.status ?? 'running') !== 'running') ended.add(q.runId);
      ctx.body = {
        runs: rows
          .filter((q) => !ended.has(q.runId))
          .map((q) => ({
            runId: q.runId,
            state: q.state === 'queued' ? 'queued' : 'running',
            trigger: q.trigger,
            selection: q.selection,
            partitions: q.partitions,
            pools: q.pools,
            enqueuedAt: q.enqueuedAt,
            waiting: state.launcher.waitingReason(q.runId) ?? null,
          })),
      };
    },
  });

  registerStaticUi(router);
}

const states = new WeakMap<Instance<unknown>, UiState>();

/** The UI's route module, for the server's module list in serving/app.ts. */
export const uiApiRoutes: RouteModule = {
  name: 'ui-api',
  register(router: Router, spec: OpenApiRegistry, deps: ServerDeps): void {
    const state = new UiState(deps.instance, {
      queue: deps.config.runQueue,
      onRunError: (runId, error) => deps.log.error({ runId, err: error }, 'a run started from the UI ended with an error'),
    });
    states.set(deps.instance, state);
    registerUiApi(router, spec, state);
    // Compute the graph view once in the background, so the first visit does not wait for it.
    setImmediate(() => {
      state.graph().catch((err: unknown) => deps.log.warn({ err }, 'could not precompute the UI graph view; it will be computed on the first request'));
    });
  },
  /** Cancels the runs the UI started in this process and waits for them to stop (they end `canceled`). */
  async close(deps: ServerDeps): Promise<void> {
    await states.get(deps.instance)?.close();
  },
};

export { UiState } from './ui-state.ts';
