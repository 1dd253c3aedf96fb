// Serves the front end: `ui/` as plain ES modules, no build step. `/` is the
// app's page; `/ui/<file>` its modules and styles. Only files inside ui/ with a
// known type are served, so a crafted path cannot read anything else.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { projectRoot } from '../../lib/code-location.ts';
import type { Router, RouterContext } from '@koa/router';
import { answeredNotModified } from '../http/not-modified.ts';

export const UI_ROOT = join(projectRoot(), 'ui');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.ico': 'image/x-icon',
};

async function sendFile(ctx: RouterContext, root: string, relative: string): Promise<void> {
  const path = resolve(root, relative);
  const type = TYPES[extname(path)];
  if (!path.startsWith(root + sep) || type === undefined) return;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return; // falls through to the app's 404
  }
  if (!info.isFile()) return;
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  // Revalidated every time: a changed module must never be served stale, and the check is a 304.
  if (answeredNotModified(ctx, etag)) return;
  ctx.type = type;
  ctx.body = await readFile(path);
}

export function registerStaticUi(router: Router, root: string = UI_ROOT): void {
  router.get('/', (ctx) => sendFile(ctx, root, 'index.html'));
  router.get('/ui/*path', (ctx) => sendFile(ctx, root, String(ctx.params.path ?? '')));
}
