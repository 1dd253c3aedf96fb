// GET /api/assets/:key and its partitions and predictions: one asset's page.
import type { Router } from '@koa/router';
import { addRoute, HttpError, type OpenApiRegistry } from '../../routes.ts';
import { assetView, partitionsView } from '../asset-view.ts';
import { forecastVsActual } from '../model-view.ts';
import * as S from '../schemas.ts';
import type { UiState } from '../ui-state.ts';
import { asHttpError, assetKeyOrThrow, TAG } from './shared.ts';

/** Registers GET /api/assets/:key, its partitions and its predictions. */
export function registerAssetRoutes(router: Router, spec: OpenApiRegistry, state: UiState): void {
  const { instance } = state;
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
    responses: {
      200: { description: 'The chosen node and week, and the nodes and weeks available', schema: S.ForecastVsActualSchema, schemaName: 'UiForecastVsActual' },
    },
    errors: { 404: 'No such asset, it has no current version, or its value holds no predictions.' },
    handler: async (ctx, { params, query }) => {
      const key = assetKeyOrThrow(instance, params.key);
      const current = await instance.store.current(key, '');
      if (!current) throw new HttpError(404, 'not_found', `${key} has no current version yet; materialize it first.`);
      const hours = await state.predictions(key, current.id);
      if (!hours) {
        throw new HttpError(
          404,
          'not_found',
          `${key}'s current version (materialization ${current.id}) holds no predictions: expected a value with forecasts, an array of {nodeId, day, hour, actual, forecast, naive}, as pjm/backtest stores.`,
        );
      }
      ctx.body = forecastVsActual(hours, query);
    },
  });
}
