// GET /api/runs/:id/stream: a run's event log as server-sent events. It sends
// the stored events after Last-Event-ID (or ?afterId), then new ones as they are
// committed, with the run's progress whenever it changed, and `end` once the run
// has finished. The store is the source of truth, so runs of other processes
// (the CLI, the CronJob, workers) stream too: the store's change notifications
// wake the loop, as runs of this process do; a slow poll is the safety net. A stream closes itself after STREAM_LIFETIME_MS and the browser's
// EventSource reconnects with Last-Event-ID: no request outlives the server's
// timeouts or holds up a graceful shutdown for long.
import { PassThrough } from 'node:stream';
import type { RouterContext } from '@koa/router';
import { runSummary } from './runs-view.ts';
import type { UiState } from './ui-state.ts';
import { Wakeup } from '../../lib/wakeup.ts';

const POLL_MS = 400;
const STREAM_LIFETIME_MS = 5_000;
const BATCH = 1000;

const frame = (event: string, data: unknown, id?: number): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export function streamRunEvents(ctx: RouterContext, state: UiState, runId: string, afterId: number): void {
  const { store } = state.instance;
  const out = new PassThrough();
  ctx.req.socket.setTimeout(0);
  ctx.req.socket.setNoDelay(true);
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
  ctx.status = 200;
  ctx.body = out;

  let closed = false;
  const wakeup = new Wakeup();
  const unsubscribe = state.launcher.subscribe(runId, () => wakeup.wake());
  const unwatch = state.watchStore(() => wakeup.wake());
  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unwatch();
    wakeup.wake();
    out.end();
  };
  ctx.req.on('close', close);
  out.write('retry: 500\n\n');

  let last = afterId;
  /** Sends every stored event after `last`; true when there were any. */
  const sendNew = async (): Promise<boolean> => {
    let sent = false;
    for (;;) {
      const batch = await store.events(runId, { afterId: last, limit: BATCH });
      if (closed) return sent;
      for (const e of batch) out.write(frame('run-event', e, e.id));
      if (batch.length > 0) {
        last = batch[batch.length - 1]!.id;
        sent = true;
      }
      if (batch.length < BATCH) return sent;
    }
  };
  const deadline = Date.now() + STREAM_LIFETIME_MS;

  void (async () => {
    try {
      let changed = true;
      for (;;) {
        // Read the status before the events: events committed before a finished status are then all sent.
        const run = await store.getRun(runId);
        const ended = !run || (run.status !== 'running' && !state.launcher.activeRunIds.includes(runId));
        changed = (await sendNew()) || changed;
        if (closed) return;
        if (changed) out.write(frame('progress', { run: run ? runSummary(run) : null, progress: await state.progress(runId) }));
        if (ended) {
          out.write(frame('end', { run: run ? runSummary(run) : null, progress: await state.progress(runId) }));
          break;
        }
        if (Date.now() > deadline) break;
        await wakeup.sleep(POLL_MS);
        if (closed) return;
        changed = false;
      }
    } catch (err) {
      out.write(frame('error', { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      close();
    }
  })();
}
