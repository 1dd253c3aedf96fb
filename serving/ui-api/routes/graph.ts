// GET /api/graph: every asset with its status, and every edge (an ETag makes polling cheap).
import type { Router } from '@koa/router';
import { addRoute, type OpenApiRegistry } from '../../routes.ts';
import { answeredNotModified } from '../../http/not-modified.ts';
import * as S from '../schemas.ts';
import type { UiState } from '../ui-state.ts';
import { TAG } from './shared.ts';

/** Registers GET /api/graph. */
export function registerGraphRoutes(router: Router, spec: OpenApiRegistry, state: UiState): void {
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
      if (answeredNotModified(ctx, `W/"${token}"`)) return;
      ctx.body = value;
    },
  });
}
