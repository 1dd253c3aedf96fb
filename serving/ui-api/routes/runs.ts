// GET /api/runs, one run, its events (polled) and its event stream (server-sent events): reading runs.
import type { Router, RouterContext } from '@koa/router';
import { addRoute, HttpError, type OpenApiRegistry } from '../../routes.ts';
import { streamRunEvents } from '../event-stream.ts';
import { listRunsView, runSummary, runView } from '../runs-view.ts';
import * as S from '../schemas.ts';
import type { UiState } from '../ui-state.ts';
import { TAG } from './shared.ts';

/** Registers the routes that read runs. */
export function registerRunRoutes(router: Router, spec: OpenApiRegistry, state: UiState): void {
  const { instance } = state;
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
      ctx.body = {
        run: runSummary(run),
        progress: await state.progress(params.id),
        events,
        lastEventId: events.length > 0 ? events[events.length - 1]!.id : after,
      };
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
}
