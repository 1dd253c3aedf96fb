// Who may call what. With SERVING_API_TOKEN set, every mutating request (POST, PUT, PATCH,
// DELETE: /predict and any route that changes state) needs `Authorization: Bearer <token>`;
// reads stay open for probes and dashboards. Tokens are compared in constant time and never
// logged. Without a token, routes that change state (starting or canceling a run) answer
// only callers on this machine (loopback): a server listening on 0.0.0.0 with auth off must
// not let the network start materializations. Routes that only compute an answer from a
// POST body (/predict) stay open, as before.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { HttpError } from '../errors.ts';

export interface Auth {
  readonly enabled: boolean;
  /** True when a request with this method needs the token (when auth is enabled). */
  requiredFor(method: string): boolean;
  /** Throws a 401 unless the request carries the right token (no-op when auth is off). */
  check(ctx: Context): void;
  /** Whether an `Authorization` header value passes `check` (true when auth is off). */
  accepts(authorization: string | undefined): boolean;
  /** Whether a caller at this socket address is on this machine (loopback by default). */
  isLocalPeer(address: string | undefined): boolean;
}

export interface AuthOptions {
  /**
   * Which callers count as local when no token is set (default: loopback addresses). A test
   * passes `() => false` to see the server as a caller on another host does.
   */
  readonly isLocalPeer?: (address: string | undefined) => boolean;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** 127.0.0.0/8, ::1, and 127.x as an IPv4-mapped IPv6 address (a dual-stack socket's view of it). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function bearerAuth(token: string | undefined, options: AuthOptions = {}): Auth {
  const expected = token === undefined ? undefined : digest(token);
  const tokenOf = (header: string): string | undefined => /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
  return {
    enabled: expected !== undefined,
    requiredFor: (method) => MUTATING.has(method.toUpperCase()),
    isLocalPeer: options.isLocalPeer ?? isLoopbackAddress,
    check(ctx) {
      if (expected === undefined) return;
      const given = tokenOf(ctx.get('authorization'));
      const challenge = { 'WWW-Authenticate': 'Bearer realm="pjm-serving"' };
      if (given === undefined)
        throw new HttpError(
          401,
          'unauthorized',
          'This route needs "Authorization: Bearer <token>" (the server runs with SERVING_API_TOKEN).',
          undefined,
          challenge,
        );
      if (!timingSafeEqual(digest(given), expected)) throw new HttpError(401, 'unauthorized', 'The bearer token is not valid.', undefined, challenge);
    },
    accepts(authorization) {
      if (expected === undefined) return true;
      const given = tokenOf(authorization ?? '');
      return given !== undefined && timingSafeEqual(digest(given), expected);
    },
  };
}

/**
 * Enforces `auth` on every mutating request; without a token, marks a mutating request from
 * another host (`ctx.state.remoteWithoutToken`) so that routes that change state refuse it
 * (`refuseStateChange`, applied by addRoute).
 */
export function authMiddleware(auth: Auth): Middleware {
  return async (ctx, next) => {
    if (auth.requiredFor(ctx.method)) {
      if (auth.enabled) auth.check(ctx);
      else if (!auth.isLocalPeer(ctx.req.socket.remoteAddress)) ctx.state.remoteWithoutToken = true;
    }
    return next();
  };
}

/** The 403 of a route that changes state, called from another host while no token is set. */
export function refuseStateChange(ctx: Context): HttpError {
  return new HttpError(
    403,
    'forbidden',
    `${ctx.method} ${ctx.path} changes state, and without an API token the server accepts that only from this machine (loopback). ` +
      'To allow it from other hosts, set SERVING_API_TOKEN and send "Authorization: Bearer <token>".',
  );
}
