// GET /api/materializations/:id/lineage: what one materialization consumed and what consumed it.
import type { Router } from '@koa/router';
import { addRoute, HttpError, type OpenApiRegistry } from '../../routes.ts';
import { lineageView } from '../lineage-view.ts';
import * as S from '../schemas.ts';
import type { UiState } from '../ui-state.ts';
import { TAG } from './shared.ts';

/** Registers GET /api/materializations/:id/lineage. */
export function registerLineageRoutes(router: Router, spec: OpenApiRegistry, state: UiState): void {
  const { instance } = state;
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
}
