// GET /api/forecast-scores: live accuracy of what was served (pjm/forecast_score): each day's
// figures, the rolling 7- and 28-day windows, and the kept forecasts not scored yet, with why.
import type { Router } from '@koa/router';
import type { ForecastScores } from '../../data/forecast-scores.ts';
import { addRoute, type OpenApiRegistry } from '../../routes.ts';
import * as S from '../schemas.ts';
import { TAG } from './shared.ts';

export function registerScoreRoutes(router: Router, spec: OpenApiRegistry, scores: ForecastScores): void {
  addRoute(router, spec, {
    method: 'get',
    path: '/api/forecast-scores',
    operationId: 'uiForecastScores',
    tags: [TAG],
    summary: 'Live accuracy: the served forecasts scored against validated prices, by day and over rolling windows',
    responses: { 200: { description: 'The scores', schema: S.ForecastScoresSchema, schemaName: 'UiForecastScores' } },
    handler: async (ctx) => {
      ctx.body = await scores.view();
    },
  });
}
