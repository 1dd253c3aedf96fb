// Counts every request and times it, labelled by route template (`/runs/:id`, not the
// concrete URL, so label values stay few), method and status. The server's own warm-up
// requests (`ctx.state.warmup`) are counted in a registry nobody scrapes (ServerDeps.warmUpSinks).
import type { Middleware } from 'koa';
import type { ServingMetrics } from '../../metrics.ts';

export function httpMetrics(metrics: ServingMetrics, warmUpMetrics: ServingMetrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      (ctx.state.warmup ? warmUpMetrics : metrics).recordRequest(
        ctx.method,
        typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched',
        ctx.status,
        started,
      );
    }
  };
}
