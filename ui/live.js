// Follows one run live: server-sent events from /api/runs/:id/stream, and
// polling /api/runs/:id/events?afterId=… if the stream cannot be used. Calls
// back with each new event, the progress, and once at the end.
import { api } from './api.js';

/** @typedef {{ status: string, error?: string | null }} RunSummary */
/** @typedef {{ planned: number, done: number, materialized: number, running: number, failed: number, blocked: number }} RunProgress */
/** @typedef {{ run: RunSummary | null, progress: RunProgress | null }} RunState */

/**
 * @param {string} runId
 * @param {{ onEvent?: (e: { message: string }) => void, onProgress?: (p: RunState) => void, onEnd?: (p: RunState) => void }} handlers
 * @param {AbortSignal} signal
 * @param {number} [afterId] events up to this id are already shown
 */
export function followRun(runId, handlers, signal, afterId = 0) {
  let last = afterId;
  let ended = false;
  const end = (p) => {
    if (ended) return;
    ended = true;
    handlers.onEnd?.(p);
  };
  const event = (e) => {
    if (e.id <= last) return;
    last = e.id;
    handlers.onEvent?.(e);
  };

  const poll = async () => {
    while (!signal.aborted && !ended) {
      try {
        const r = await api.runEvents(runId, last);
        r.events.forEach(event);
        handlers.onProgress?.(r);
        if (r.run.status !== 'running') return end(r);
      } catch (err) {
        console.warn('polling run events failed', err);
      }
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
  };

  if (typeof EventSource !== 'function') return void poll();
  const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/stream?afterId=${afterId}`);
  let opened = false;
  source.addEventListener('open', () => (opened = true));
  source.addEventListener('run-event', (m) => event(JSON.parse(m.data)));
  source.addEventListener('progress', (m) => handlers.onProgress?.(JSON.parse(m.data)));
  source.addEventListener('end', (m) => {
    source.close();
    end(JSON.parse(m.data));
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself after the server's periodic close; only a
    // stream that never opened (blocked by a proxy, say) falls back to polling.
    if (!opened && !ended) {
      source.close();
      void poll();
    }
  });
  signal.addEventListener('abort', () => source.close());
}
