// Optional bearer-token auth. With SERVING_API_TOKEN set, every mutating request (POST,
// PUT, PATCH, DELETE: /predict and any route that changes state) needs
// `Authorization: Bearer <token>`; reads stay open for probes and dashboards. Tokens are
// compared in constant time and never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { HttpError } from '../errors.ts';

export interface Auth {
  readonly enabled: boolean;
  /** True when a request with this method needs the token (when auth is enabled). */
  requiredFor(method: string): boolean;
  /** Throws a 401 unless the request carries the right token (no-op when auth is off). */
  check(ctx: Context): void;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function bearerAuth(token: string | undefined): Auth {
  const expected = token === undefined ? undefined : digest(token);
  return {
    enabled: expected !== undefined,
    requiredFor: (method) => MUTATING.has(method.toUpperCase()),
    check(ctx) {
      if (expected === undefined) return;
      const header = ctx.get('authorization');
      const m = /^Bearer\s+(.+)$/i.exec(header);
      const challenge = { 'WWW-Authenticate': 'Bearer realm="pjm-serving"' };
      if (!m) throw new HttpError(401, 'unauthorized', 'This route needs "Authorization: Bearer <token>" (the server runs with SERVING_API_TOKEN).', undefined, challenge);
      if (!timingSafeEqual(digest(m[1]!.trim()), expected)) throw new HttpError(401, 'unauthorized', 'The bearer token is not valid.', undefined, challenge);
    },
  };
}

/** Enforces `auth` on every mutating request. */
export function authMiddleware(auth: Auth): Middleware {
  return async (ctx, next) => {
    if (auth.enabled && auth.requiredFor(ctx.method)) auth.check(ctx);
    return next();
  };
}
