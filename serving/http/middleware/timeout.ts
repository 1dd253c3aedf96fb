// Answers 503 `request_timeout` when a request takes longer than `ms`, so a stuck
// dependency cannot hold a connection (and a load balancer slot) forever. The handler
// is not killed (JS cannot), but its late result is dropped.
import type { Middleware } from 'koa';
import { HttpError } from '../errors.ts';

export function requestTimeout(ms: number): Middleware {
  return async (ctx, next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HttpError(503, 'request_timeout', `The request took longer than ${ms} ms and was abandoned; retry later.`, undefined, { 'Retry-After': '1' })),
        ms,
      );
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
