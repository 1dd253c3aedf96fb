// Answers 503 `request_timeout` when a request takes longer than `ms`, so a stuck
// dependency cannot hold a connection (and a load balancer slot) forever. JS cannot kill a
// handler, so each request also gets an abort signal (`ctx.state.signal`), aborted when the
// deadline passes or the connection closes before the answer was sent (the client left, or
// shutdown cut it after the drain limit): long work (a batch, explanations) checks it
// between steps, yielding to the event loop there so that this timer, /health and the drain
// timer can run at all.
//
// Per request this costs one timer and one 'close' listener. The AbortController is made
// only when a handler reads `ctx.state.signal` (/predict/batch, /predict/features), and an
// abort reason only when something is aborted: a CPU profile of /predict under load
// (bench/serving.ts, --cpu-prof) showed ~8 % of the server's CPU going to a controller per
// request and to aborting it, with a new HttpError (a captured stack), on every ordinary
// 'close' of a response that had been answered in full.
import type { Middleware } from 'koa';
import { HttpError } from '../errors.ts';

const closedEarly = () => new HttpError(503, 'request_timeout', 'The connection closed before the answer was ready.');

export function requestTimeout(ms: number): Middleware {
  return async (ctx, next) => {
    let controller: AbortController | undefined;
    // What aborted the request before a handler asked for its signal: the signal it then gets is already aborted.
    let abortedWith: HttpError | undefined;
    const abort = (reason: HttpError) => {
      abortedWith ??= reason;
      controller?.abort(reason);
    };
    Object.defineProperty(ctx.state, 'signal', {
      get: () => {
        if (!controller) {
          controller = new AbortController();
          if (abortedWith) controller.abort(abortedWith);
        }
        return controller.signal;
      },
      enumerable: true,
      configurable: true,
    });
    const res = ctx.res;
    // A response closes once it is sent, too: only a close before the end means the client went away.
    const onClose = () => {
      if (!res.writableFinished) abort(closedEarly());
    };
    res.once('close', onClose);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new HttpError(503, 'request_timeout', `The request took longer than ${ms} ms and was abandoned; retry later.`, undefined, {
          'Retry-After': '1',
        });
        abort(error);
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
