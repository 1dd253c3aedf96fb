// Reads a JSON request body into `ctx.state.body`, refusing more than `limitBytes` with a
// 413 before reading it when Content-Length says so (and while reading otherwise), a body
// that is not JSON with 415, and malformed JSON with a 400 saying where it broke.
import type { IncomingMessage } from 'node:http';
import type { Middleware } from 'koa';
import getRawBody from 'raw-body';
import { HttpError } from '../errors.ts';
import { preReadBody } from '../predict-lane.ts';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function jsonBody(limitBytes: number): Middleware {
  const tooLarge = (got: string) =>
    new HttpError(
      413,
      'payload_too_large',
      `The request body is ${got}; the limit is ${limitBytes} bytes. Split the request (e.g. fewer nodes or dates per batch).`,
      { limitBytes },
    );
  return async (ctx, next) => {
    if (!WITH_BODY.has(ctx.method)) return next();
    const length = ctx.get('content-length');
    const declared = length === '' ? undefined : Number(length);
    if (declared !== undefined && declared > limitBytes) {
      // Answer now and close: reading megabytes only to refuse them would be the attack.
      ctx.set('Connection', 'close');
      throw tooLarge(`${declared} bytes`);
    }
    if (declared === 0 || (declared === undefined && !ctx.get('transfer-encoding'))) return next();
    if (!ctx.is('application/json', '+json')) {
      throw new HttpError(
        415,
        'unsupported_media_type',
        `The body must be JSON (Content-Type: application/json), got ${ctx.get('content-type') || 'no Content-Type'}.`,
      );
    }
    // The cached /predict lane may have read the body already (it had arrived whole).
    const text = preReadBody(ctx.req) ?? (await readBody(ctx.req, declared, limitBytes, () => ctx.set('Connection', 'close'), tooLarge));
    ctx.state.rawBody = text;
    try {
      ctx.state.body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, 'invalid_json', `The body is not valid JSON: ${(err as Error).message}.`);
    }
    return next();
  };
}

/** Reads the body as UTF-8 text within the limit; errors as the HTTP errors the client gets. */
async function readBody(
  req: IncomingMessage,
  declared: number | undefined,
  limitBytes: number,
  closeAfter: () => void,
  tooLarge: (got: string) => HttpError,
): Promise<string> {
  try {
    return await getRawBody(req, { length: declared, limit: limitBytes, encoding: 'utf8' });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      closeAfter();
      throw tooLarge(`more than ${limitBytes} bytes`);
    }
    if (type === 'request.aborted') throw new HttpError(400, 'bad_request', 'The client closed the connection before sending the whole body.');
    throw new HttpError(400, 'bad_request', `Could not read the request body: ${(err as Error).message}`);
  }
}
