// Probes and metrics: GET /health (liveness: the process answers), GET /ready (readiness:
// a model is loaded, the start-up warm-up is over and the server is not draining) and
// GET /metrics (Prometheus).
import { Type as T } from '@sinclair/typebox';
import { describePartition } from '../../runtime/index.ts';
import { HttpError } from '../http/errors.ts';
import type { Lifecycle } from '../lifecycle.ts';
import { addRoute, type RouteModule } from '../routes.ts';
import { ModelRef } from '../schemas.ts';
import { modelRef } from '../predict/service.ts';

const Health = T.Object({ status: T.Literal('ok'), uptimeSeconds: T.Number() });
const Ready = T.Object({
  status: T.Literal('ready'),
  model: T.Composite([ModelRef, T.Object({ loadedAt: T.String({ format: 'date-time' }), market: T.String() })]),
  validatedPartitions: T.Object({ prices: T.Integer(), load: T.Integer() }),
  newerModelFailed: T.Optional(
    T.Object(
      { materializationId: T.Integer(), message: T.String(), at: T.String({ format: 'date-time' }) },
      { description: 'A newer current pjm/model that could not be loaded; the model above keeps serving.' },
    ),
  ),
});

export function healthRoutes(lifecycle: Lifecycle): RouteModule {
  return {
    name: 'health',
    register(router, spec, deps) {
      spec.tag('operations', 'Probes and metrics.');
      addRoute(router, spec, {
        method: 'get',
        path: '/health',
        tags: ['operations'],
        summary: 'Liveness: the process is up',
        responses: { 200: { description: 'Up.', schema: Health } },
        handler: (ctx) => {
          ctx.body = { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
        },
      });
      addRoute(router, spec, {
        method: 'get',
        path: '/ready',
        tags: ['operations'],
        summary: 'Readiness: a model is loaded (with its data version and training time)',
        responses: { 200: { description: 'Ready to predict.', schema: Ready } },
        errors: {
          503: 'Not ready: no model yet (the message says why), degraded (a validated input of the model is corrupt; `details.corrupt` names each), warming up after start, or shutting down.',
        },
        handler: (ctx) => {
          if (lifecycle.draining) throw new HttpError(503, 'shutting_down', 'The server is shutting down (SIGTERM) and finishing its in-flight requests.');
          const m = deps.models.current();
          if (!m) throw new HttpError(503, 'no_model', deps.models.unavailableReason, undefined, { 'Retry-After': '5' });
          // Every validated partition is an input of the served model (through pjm/features) and
          // of the forecasts that read it: while one is corrupt the server is degraded, not ready.
          const corrupt = deps.features.catalog.corrupt();
          if (corrupt.length > 0) {
            const named = corrupt
              .slice(0, 5)
              .map((p) => describePartition(p.asset, p.partition))
              .join(', ');
            throw new HttpError(
              503,
              'degraded',
              `Degraded: ${corrupt.length} validated partition${corrupt.length === 1 ? '' : 's'} the served model depends on ${corrupt.length === 1 ? 'is' : 'are'} corrupt (${named}${corrupt.length > 5 ? ', …' : ''}). Forecasts that need ${corrupt.length === 1 ? 'it are' : 'them are'} refused; other days are served. Repair: \`materialize\` rewrites ${corrupt.length === 1 ? 'it' : 'them'} (\`materialize verify\` lists every bad file).`,
              {
                corrupt: corrupt.map((p) => ({
                  asset: p.asset,
                  partition: p.partition,
                  day: p.day,
                  reason: p.corrupt!.reason,
                  detectedBy: p.corrupt!.detectedBy,
                  detectedAt: new Date(p.corrupt!.detectedAt).toISOString(),
                })),
              },
              { 'Retry-After': '60' },
            );
          }
          if (lifecycle.warming) {
            throw new HttpError(
              503,
              'warming_up',
              `The server is warming up its request path (up to ${deps.config.warmupMs} ms after start, SERVING_WARMUP_MS); it answers requests meanwhile, only more slowly.`,
              undefined,
              { 'Retry-After': '1' },
            );
          }
          ctx.body = {
            status: 'ready',
            model: { ...modelRef(m), loadedAt: m.loadedAt, market: m.sidecar.market },
            validatedPartitions: deps.features.catalog.counts,
            ...(deps.models.lastFailure ? { newerModelFailed: deps.models.lastFailure } : {}),
          };
        },
      });
      addRoute(router, spec, {
        method: 'get',
        path: '/metrics',
        tags: ['operations'],
        summary: 'Prometheus metrics',
        responses: { 200: { description: 'Prometheus text format.', contentType: 'text/plain' } },
        handler: async (ctx) => {
          ctx.type = deps.metrics.registry.contentType;
          ctx.body = await deps.metrics.registry.metrics();
        },
      });
    },
  };
}
