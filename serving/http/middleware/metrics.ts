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
      if (!ctx.state.warmup) {
        const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
        metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
        metrics.httpDuration.observe({ method: ctx.method, route }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    }
  };
}
