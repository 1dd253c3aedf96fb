// GET /api/runs/:id/stream: a run's event log as server-sent events. It sends
// the stored events after Last-Event-ID (or ?afterId), then new ones as they are
// committed, each followed by the run's progress, and `end` once the run has
// finished. The store is the source of truth, so runs of other processes (the
// CLI, the CronJob) stream too; runs of this process also wake the loop at once.
// A stream closes itself after STREAM_LIFETIME_MS and the browser's EventSource
// reconnects with Last-Event-ID: no request outlives the server's timeouts or
// holds up a graceful shutdown for long.
import { PassThrough } from 'node:stream';
import type { RouterContext } from '@koa/router';
import type { Instance } from '../../runtime/index.ts';
import type { RunLauncher } from './launcher.ts';
import { ProgressFold, runSummary } from './runs-view.ts';

const POLL_MS = 400;
const STREAM_LIFETIME_MS = 5_000;
const BATCH = 1000;

const frame = (event: string, data: unknown, id?: number): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export function streamRunEvents(ctx: RouterContext, instance: Instance<unknown>, launcher: RunLauncher, runId: string, afterId: number): void {
  const { store } = instance;
  const fold = new ProgressFold();
  // Progress needs every event; only those after afterId are sent again.
  let last = 0;
  const catchUp = store.events(runId);
  fold.add(catchUp);
  last = catchUp.length > 0 ? catchUp[catchUp.length - 1]!.id : 0;

  const out = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
  ctx.status = 200;
  ctx.body = out;

  let closed = false;
  let wake: (() => void) | undefined;
  const unsubscribe = launcher.subscribe(runId, () => wake?.());
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    wake?.();
    out.end();
  };
  ctx.req.on('close', close);

  out.write('retry: 500\n\n');
  for (const e of catchUp) if (e.id > afterId) out.write(frame('run-event', e, e.id));
  const deadline = Date.now() + STREAM_LIFETIME_MS;

  void (async () => {
    try {
      let changed = true;
      for (;;) {
        const run = store.getRun(runId);
        if (changed) out.write(frame('progress', { run: run ? runSummary(run) : null, progress: fold.value }));
        if (!run || (run.status !== 'running' && !launcher.activeRunIds.includes(runId))) {
          // A last read: events committed between the previous read and the status change.
          const tail = store.events(runId, { afterId: last });
          for (const e of tail) out.write(frame('run-event', e, e.id));
          fold.add(tail);
          out.write(frame('end', { run: run ? runSummary(store.getRun(runId) ?? run) : null, progress: fold.value }));
          break;
        }
        if (Date.now() > deadline) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (closed) return;
        changed = false;
        for (;;) {
          const batch = store.events(runId, { afterId: last, limit: BATCH });
          for (const e of batch) out.write(frame('run-event', e, e.id));
          fold.add(batch);
          if (batch.length > 0) {
            last = batch[batch.length - 1]!.id;
            changed = true;
          }
          if (batch.length < BATCH) break;
        }
      }
    } catch (err) {
      out.write(frame('error', { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      close();
    }
  })();
}
