// Turns whatever a handler throws into a JSON error `{ error: { code, message, requestId } }`
// with the right status: HttpError as it says, Koa/http-errors by their status, anything
// else a 500 whose message points at the log line (the details stay in the log). A route
// nobody handles becomes a JSON 404 too.
import type { Middleware } from 'koa';
import { HttpError, type ErrorCode } from '../errors.ts';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'shutting_down',
};

export function errorMapper(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) {
        throw new HttpError(404, 'not_found', `No route ${ctx.method} ${ctx.path}. GET /docs lists the API.`);
      }
    } catch (err) {
      const requestId = String(ctx.state.requestId ?? '');
      let error: HttpError;
      if (err instanceof HttpError) {
        error = err;
      } else {
        const status = (err as { status?: unknown; expose?: unknown }).status;
        if (typeof status === 'number' && status >= 400 && status < 500 && (err as { expose?: boolean }).expose !== false) {
          error = new HttpError(status, CODE_BY_STATUS[status] ?? 'bad_request', (err as Error).message);
        } else {
          ctx.state.log?.error({ err }, 'unhandled error');
          error = new HttpError(500, 'internal_error', `Unexpected server error; the server log has the details under request id ${requestId}.`);
        }
      }
      ctx.status = error.status;
      for (const [k, v] of Object.entries(error.headers ?? {})) ctx.set(k, v);
      ctx.body = { error: { code: error.code, message: error.message, requestId, ...error.details } };
    }
  };
}
