// POST /predict (one node-day), /predict/batch (nodes × dates) and /predict/features
// (caller-supplied feature rows). Handlers only validate (done by addRoute) and hand over
// to PredictService (deps.predictions); a repeated /predict is answered before Koa
// (serving/http/predict-lane.ts).
import type { RequestState, RouteModule } from '../routes.ts';
import { addRoute } from '../routes.ts';
import { PredictBatchRequest, PredictBatchResponse, PredictFeaturesRequest, PredictFeaturesResponse, PredictRequest, PredictResponse } from '../schemas.ts';

const NO_MODEL = 'No model is loaded yet (or the server is shutting down); `error.message` says why.';

export const predictRoutes: RouteModule = {
  name: 'predict',
  register(router, spec, deps) {
    const service = deps.predictions;
    spec.tag('predict', 'Price forecasts from the current pjm/model.');
    addRoute(router, spec, {
      method: 'post',
      path: '/predict',
      operationId: 'predict',
      tags: ['predict'],
      // POST for the body; computing a forecast changes nothing.
      changesState: false,
      summary: 'Forecast the hourly prices of one node and EPT day',
      description:
        'Builds the feature rows of (node, market, date) with the features asset code over the latest validated data, then predicts with the current model. ' +
        'Never falls back to older data: a missing input is a 422 listing every missing series, day and hour.',
      body: PredictRequest,
      bodyName: 'PredictRequest',
      responses: { 200: { description: 'The forecast of every hour of the day.', schema: PredictResponse, schemaName: 'DayForecast' } },
      errors: {
        404: 'The node is unknown (no validated prices name it).',
        422: 'The inputs of the features are missing (`error.missing`), or the model does not serve this market or node.',
        503: NO_MODEL,
      },
      handler: async (ctx, { body }) => {
        ctx.type = 'application/json';
        ctx.body = await service.day(body, { record: !ctx.state.warmup });
        // The same body again is answered by the cached lane, without Koa (serving/http/predict-lane.ts).
        deps.predictLane.remember((ctx.state as RequestState).rawBody, body);
      },
    });
    addRoute(router, spec, {
      method: 'post',
      path: '/predict/batch',
      operationId: 'predictBatch',
      tags: ['predict'],
      // POST for the body; computing a forecast changes nothing.
      changesState: false,
      summary: 'Forecast several nodes and days at once (at most 500 node-days, or 20 explained)',
      description:
        'All items use the same model. An item that cannot be forecast (unknown node, missing inputs) carries `error` instead of failing the batch. ' +
        'A request is bounded in work: nodes × dates node-days, each explained one counting 25, at most 500 (else 422 `work_limit_exceeded`, saying how to split it).',
      body: PredictBatchRequest,
      bodyName: 'PredictBatchRequest',
      responses: { 200: { description: 'One result per node × date, nodes outer.', schema: PredictBatchResponse, schemaName: 'PredictBatchResponse' } },
      errors: { 422: 'The batch asks for more work than one request may (`error.limit`, `error.cost`); split it.', 503: NO_MODEL },
      handler: async (ctx, { body }) => {
        ctx.body = await service.batch(body, ctx.state.signal);
      },
    });
    addRoute(router, spec, {
      method: 'post',
      path: '/predict/features',
      operationId: 'predictFeatures',
      tags: ['predict'],
      // POST for the body; computing a forecast changes nothing.
      changesState: false,
      summary: 'Predict from feature rows you supply',
      description:
        'Each row must give every feature the model uses (GET /model lists them), null for a missing value. Price features are in $/MWh, as the features asset writes them.',
      body: PredictFeaturesRequest,
      bodyName: 'PredictFeaturesRequest',
      responses: { 200: { description: 'One prediction per row, $/MWh.', schema: PredictFeaturesResponse, schemaName: 'PredictFeaturesResponse' } },
      errors: {
        404: 'The node is unknown.',
        422: 'The rows do not match the model features, the model does not serve this market or node, or the rows ask for more work than one request may (24 rows count as a node-day, 25 times that with explain; at most 500).',
        503: NO_MODEL,
      },
      handler: async (ctx, { body }) => {
        ctx.body = await service.fromFeatures(body, ctx.state.signal);
      },
    });
  },
};
