// Gives each request an id (the caller's X-Request-Id when it is sane, else a new UUID),
// echoes it in the response, hands handlers a child logger that stamps it on every line,
// and writes one structured access-log line per request. Only method, path, status and
// timing are logged: never headers (the bearer token) nor bodies.
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

const SANE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** The request's id: the caller's `X-Request-Id` when it is sane, else a new UUID. */
export function requestIdFrom(given: string | undefined): string {
  return given !== undefined && SANE_ID.test(given) ? given : randomUUID();
}

/** The one access-log line of a request (also written by the cached /predict lane, serving/http/predict-lane.ts). */
export function writeAccessLine(log: Logger, requestId: string, method: string, path: string, status: number, started: bigint): void {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const line = { requestId, method, path, status, ms: Math.round(ms * 100) / 100 };
  // A 503 is the server declining on purpose (not ready yet, shutting down, a timeout) and
  // says when to retry; a readiness probe polling a pod without a model must not page anyone.
  if (status === 503) log.warn(line, 'request refused');
  else if (status >= 500) log.error(line, 'request failed');
  else log.info(line, 'request');
}

/** `warmUpLog`: where the server's own warm-up requests (`ctx.state.warmup`) write their access line (ServerDeps.warmUpSinks). */
export function requestContext(log: Logger, warmUpLog: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(ctx.get('x-request-id'));
    ctx.set('X-Request-Id', requestId);
    ctx.state.requestId = requestId;
    // The child logger is made on first use: most requests only write the access line.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', { get: () => (child ??= log.child({ requestId })), enumerable: true, configurable: true });
    try {
      await next();
    } finally {
      // The server's own warm-up requests (serving/warmup.ts) write theirs to the throwaway log.
      // (No `return` here: a return in `finally` would swallow an error thrown by the handler.)
      writeAccessLine(ctx.state.warmup ? warmUpLog : log, requestId, ctx.method, ctx.path, ctx.status, started);
    }
  };
}
