// The server's warm-up and shutdown state and in-flight request count, shared by the request
// handler, the readiness probe and the SIGTERM handler. A request counts until its response has
// been handed to the socket ('close' of the response), not merely until the middleware
// returns: Koa writes the body after the middleware chain, and closing connections in
// between would cut off the very answers the drain waits for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';

export class Lifecycle {
  draining = false;
  /** True while the start-up warm-up runs (serving/warmup.ts): /ready answers 503 until it ends. */
  warming = false;
  /**
   * The server's own warm-up requests carry this secret in `X-Warmup` (a fresh random value
   * per process, so no client can hide its requests from the log by sending the header).
   */
  readonly warmupSecret = randomUUID();
  #inflight = 0;
  #idle: Array<() => void> = [];

  get inflight(): number {
    return this.#inflight;
  }

  /** Wraps a Node request handler so every request is counted until its response closes. */
  track(handler: (req: IncomingMessage, res: ServerResponse) => unknown): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      this.#inflight++;
      // One listener shared by every response ('close' comes once per response), not a closure
      // and a once-wrapper made per request.
      res.on('close', this.#closed);
      void handler(req, res);
    };
  }

  readonly #closed = (): void => {
    this.#inflight--;
    if (this.#inflight === 0) for (const resolve of this.#idle.splice(0)) resolve();
  };

  /**
   * Marks the server's own warm-up requests (`ctx.state.warmup`, which keeps them out of the
   * access log and the metrics) and, while draining, asks clients to close kept-alive
   * connections after this response.
   */
  middleware(): Middleware {
    return async (ctx, next) => {
      if (this.isWarmUp(ctx.get('x-warmup'))) ctx.state.warmup = true;
      try {
        await next();
      } finally {
        if (this.draining) ctx.set('Connection', 'close');
      }
    };
  }

  /** Whether a request with this `X-Warmup` header value is the server's own warm-up. */
  isWarmUp(header: string | string[] | undefined): boolean {
    return this.warming && header === this.warmupSecret;
  }

  /** Resolves when no request is in flight, or after `timeoutMs` (true when drained). */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
