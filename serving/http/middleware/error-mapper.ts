// Turns whatever a handler throws into a JSON error `{ error: { code, message, requestId } }`
// with the right status: HttpError as it says, Koa/http-errors by their status, anything
// else a 500 whose message points at the log line (the details stay in the log). A route
// nobody handles becomes a JSON 404 too, and the router's body-less answers to a method a
// route does not take (405, with Allow) or the server does not implement at all (501:
// TRACE, PROPFIND, QUERY, ...) become JSON errors with their Allow header kept.
import type { Context, Middleware } from 'koa';
import { HttpError, type ErrorCode } from '../errors.ts';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  503: 'shutting_down',
};

export function errorMapper(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body == null && (ctx.status === 404 || ctx.status === 405 || ctx.status === 501)) throw routingError(ctx);
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

/** The JSON error for a request no route answered: unknown path, method not taken, or method not implemented. */
function routingError(ctx: Context): HttpError {
  const allow = ctx.response.get('Allow');
  const headers = allow ? { Allow: allow } : undefined;
  const allowed = allow ? ` ${ctx.path} answers ${allow}.` : '';
  if (ctx.status === 501) {
    return new HttpError(
      501,
      'not_implemented',
      `${ctx.method} is not a method this server implements (it answers GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE).${allowed}`,
      undefined,
      headers,
    );
  }
  if (ctx.status === 405) return new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}.${allowed}`, undefined, headers);
  return new HttpError(404, 'not_found', `No route ${ctx.method} ${ctx.path}. GET /docs lists the API.`);
}
