// Counts every request and times it, labelled by route template (`/runs/:id`, not the
// concrete URL, so label values stay few), method and status. The server's own warm-up
// requests (`ctx.state.warmup`) are not counted.
import type { Middleware } from 'koa';
import type { ServingMetrics } from '../../metrics.ts';

type CounterChild = ReturnType<ServingMetrics['httpRequests']['labels']>;
type HistogramChild = ReturnType<ServingMetrics['httpDuration']['labels']>;

export function httpMetrics(metrics: ServingMetrics): Middleware {
  // One labelled child per (method, route, status), looked up by one string: prom-client
  // otherwise hashes a labels object on every inc() and observe(). Bounded, since route is
  // a template and Node only parses the methods it knows.
  const counters = new Map<string, CounterChild>();
  const timers = new Map<string, HistogramChild>();
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      if (!ctx.state.warmup) {
        const route = typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : 'unmatched';
        const timerKey = `${ctx.method} ${route}`;
        const counterKey = `${timerKey} ${ctx.status}`;
        let counter = counters.get(counterKey);
        if (!counter) counters.set(counterKey, (counter = metrics.httpRequests.labels({ method: ctx.method, route, status: String(ctx.status) })));
        let timer = timers.get(timerKey);
        if (!timer) timers.set(timerKey, (timer = metrics.httpDuration.labels({ method: ctx.method, route })));
        counter.inc();
        timer.observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    }
  };
}
