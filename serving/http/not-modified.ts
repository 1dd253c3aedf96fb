// Conditional GET for answers the client revalidates every time: the graph view (its store
// token) and the UI's static files (size and mtime). One place decides the headers and the 304.
import type { Context } from 'koa';

/**
 * Sets `ETag: etag` and `Cache-Control: no-cache` (revalidate on every use: a changed answer
 * is never served stale, and an unchanged one costs a 304). True when the request's
 * If-None-Match is that ETag: the 304 is set and the caller sends no body.
 */
export function answeredNotModified(ctx: Context, etag: string): boolean {
  ctx.set('ETag', etag);
  ctx.set('Cache-Control', 'no-cache');
  if (ctx.get('If-None-Match') !== etag) return false;
  ctx.status = 304;
  return true;
}
