// Security headers on every response (UI pages, their modules, JSON, the docs): a
// Content-Security-Policy that lets a page run only the server's own scripts (the UI's ES
// modules and Swagger UI's bundle are files; neither page has an inline script), fetch only
// from the server (the JSON APIs, server-sent events) and never be framed; no MIME sniffing
// (a JSON answer echoing a caller's text is never run as HTML or script); no Referer sent to
// other sites. Inline style attributes stay allowed: the UI sets widths and colours in its
// markup (ui/dom.js), and Swagger UI styles its elements the same way.
import type { ServerResponse } from 'node:http';
import type { Middleware } from 'koa';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  // data: the UI's empty favicon and Swagger UI's inline SVG icons.
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: readonly (readonly [string, string])[] = [
  ['Content-Security-Policy', CONTENT_SECURITY_POLICY],
  ['X-Content-Type-Options', 'nosniff'],
  // frame-ancestors for browsers that know CSP, X-Frame-Options for those that do not.
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'no-referrer'],
];

/** The same headers as a flat name, value, name, value… list, as `res.writeHead` takes them (the cached /predict lane). */
export const SECURITY_HEADER_LIST: readonly string[] = HEADERS.flat();

/** Sets the security headers on a response. */
export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of HEADERS) res.setHeader(name, value);
}

export function securityHeaders(): Middleware {
  return (ctx, next) => {
    // Set before the handler runs, so errors, 404s and 304s carry them too (four setHeader calls).
    setSecurityHeaders(ctx.res);
    return next();
  };
}
