// POST /api/materialize, POST /api/runs/:id/cancel and GET /api/queue: starting runs, stopping them, and
// the queue they wait in. The POSTs are guarded by the app's auth whenever SERVING_API_TOKEN is set.
import type { Router } from '@koa/router';
import { addRoute, HttpError, type OpenApiRegistry } from '../../routes.ts';
import * as S from '../schemas.ts';
import type { UiState } from '../ui-state.ts';
import { asHttpError, TAG } from './shared.ts';

/** Registers the routes that queue, cancel and list runs to come. */
export function registerLaunchRoutes(router: Router, spec: OpenApiRegistry, state: UiState): void {
  const { instance } = state;
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
    description:
      'A queued run never starts. Of a running one, steps in progress are abandoned and nothing they wrote is published; the run ends as canceled. Needs the bearer token when SERVING_API_TOKEN is set.',
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
          'conflict',
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
}
