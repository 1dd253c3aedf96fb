// The server's shutdown state and in-flight request count, shared by the drain middleware,
// the readiness probe and the SIGTERM handler.
import type { Middleware } from 'koa';

export class Lifecycle {
  draining = false;
  #inflight = 0;
  #idle: Array<() => void> = [];

  get inflight(): number {
    return this.#inflight;
  }

  /** Counts requests in flight and, while draining, asks clients to close kept-alive connections. */
  middleware(): Middleware {
    return async (ctx, next) => {
      this.#inflight++;
      try {
        await next();
      } finally {
        if (this.draining) ctx.set('Connection', 'close');
        this.#inflight--;
        if (this.#inflight === 0) for (const resolve of this.#idle.splice(0)) resolve();
      }
    };
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
