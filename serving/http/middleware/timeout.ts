// Answers 503 `request_timeout` when a request takes longer than `ms`, so a stuck
// dependency cannot hold a connection (and a load balancer slot) forever. JS cannot kill a
// handler, so each request also gets an abort signal (`ctx.state.signal`), aborted when the
// deadline passes or the connection closes (the client left, or shutdown cut it after the
// drain limit): long work (a batch, explanations) checks it between steps, yielding to the
// event loop there so that this timer, /health and the drain timer can run at all.
import type { Middleware } from 'koa';
import { HttpError } from '../errors.ts';

export function requestTimeout(ms: number): Middleware {
  return async (ctx, next) => {
    const controller = new AbortController();
    ctx.state.signal = controller.signal;
    const onClose = () => controller.abort(new HttpError(503, 'request_timeout', 'The connection closed before the answer was ready.'));
    ctx.res.once('close', onClose);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HttpError(503, 'request_timeout', `The request took longer than ${ms} ms and was abandoned; retry later.`, undefined, { 'Retry-After': '1' });
        controller.abort(error);
        reject(error);
      }, ms);
    });
    try {
      await Promise.race([next(), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
