// Counts every request and times it, labelled by route template (`/runs/:id`, not the
// concrete URL, so label values stay few), method and status. The server's own warm-up
// requests (`ctx.state.warmup`) are not counted.
import type { Middleware } from 'koa';
import type { ServingMetrics } from '../../metrics.ts';

export function httpMetrics(metrics: ServingMetrics): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      if (!ctx.state.warmup) metrics.recordRequest(ctx.method, typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched', ctx.status, started);
    }
  };
}
