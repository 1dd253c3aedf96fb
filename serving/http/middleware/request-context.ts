// Gives each request an id (the caller's X-Request-Id when it is sane, else a new UUID),
// echoes it in the response, hands handlers a child logger that stamps it on every line,
// and writes one structured access-log line per request. Only method, path, status and
// timing are logged: never headers (the bearer token) nor bodies.
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';

const SANE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function requestContext(log: Logger): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    const given = ctx.get('x-request-id');
    const requestId = SANE_ID.test(given) ? given : randomUUID();
    ctx.set('X-Request-Id', requestId);
    ctx.state.requestId = requestId;
    // The child logger is made on first use: most requests only write the access line.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', { get: () => (child ??= log.child({ requestId })), enumerable: true, configurable: true });
    try {
      await next();
    } finally {
      // The server's own warm-up requests (serving/warmup.ts) write no access line. (No `return`
      // here: a return in `finally` would swallow an error thrown by the handler.)
      if (!ctx.state.warmup) writeAccessLine();
    }

    function writeAccessLine(): void {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = { requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(ms * 100) / 100 };
      // A 503 is the server declining on purpose (not ready yet, shutting down, a timeout) and
      // says when to retry; a readiness probe polling a pod without a model must not page anyone.
      if (ctx.status === 503) log.warn(line, 'request refused');
      else if (ctx.status >= 500) log.error(line, 'request failed');
      else log.info(line, 'request');
    }
  };
}
