// The run queue (runs waiting for their turn, with why, each with a Cancel button) and the
// run list, newest first; refreshes every few seconds while a run is queued or in progress.
import { api } from '../api.js';
import { duration, esc, formatTime, links } from '../dom.js';

// A run's status in the colours of the asset statuses it leads to.
const RUN_COLOURS = { succeeded: 'fresh', failed: 'failed', canceled: 'missing', running: 'running' };
export const runStatusChip = (s) => `<span class="chip status-${esc(RUN_COLOURS[s] ?? 'missing')}" data-run-status="${esc(s)}">${esc(s)}</span>`;

export async function render(container, _params, signal) {
  const paint = async () => {
    const [{ runs }, queue] = await Promise.all([api.runs({ limit: 100 }), api.queue()]);
    if (signal.aborted) return false;
    const queued = queue.runs.filter((q) => q.state === 'queued');
    container.innerHTML = `<article><h1>Runs</h1>
      ${
        queued.length
          ? `<h2>Queued</h2><table class="runs" data-testid="queue"><thead><tr><th>Run</th><th>Selection</th><th>Trigger</th><th>Queued</th><th>Waiting for</th><th></th></tr></thead><tbody>${queued
              .map(
                (
                  q,
                ) => `<tr data-queued="${esc(q.runId)}"><td>${esc(q.runId)}</td><td><code>${esc(q.selection)}</code>${q.partitions ? ` [${esc(q.partitions)}]` : ''}</td><td>${esc(q.trigger)}</td><td>${formatTime(q.enqueuedAt)}</td>
          <td class="small">${q.waiting ? esc(q.waiting) : '<span class="muted">its turn (queued by another process)</span>'}${q.pools.length ? ` <span class="muted">pools: ${esc(q.pools.join(', '))}</span>` : ''}</td>
          <td><button type="button" class="secondary" data-cancel="${esc(q.runId)}">Cancel</button></td></tr>`,
              )
              .join('')}</tbody></table><h2>Recent</h2>`
          : ''
      }
      ${
        runs.length
          ? `<table class="runs" data-testid="runs"><thead><tr><th>Run</th><th>Status</th><th>Selection</th><th>Trigger</th><th>Started</th><th>Duration</th><th>Outcome</th></tr></thead><tbody>${runs
              .map(
                (
                  r,
                ) => `<tr data-run="${esc(r.id)}"><td><a href="${links.run(r.id)}">${esc(r.id)}</a></td><td>${runStatusChip(r.status)}</td><td><code>${esc(r.selection)}</code>${r.partitions ? ` [${esc(r.partitions)}]` : ''}</td><td>${esc(r.trigger)}</td><td>${formatTime(r.startedAt)}</td><td>${duration(r.durationMs)}</td>
          <td class="small">${
            r.error
              ? `<span class="error">${esc(r.error)}</span>`
              : r.summary
                ? esc(
                    Object.entries(r.summary.counts ?? r.summary)
                      .filter(([, v]) => typeof v === 'number' && v > 0)
                      .map(([k, v]) => `${v} ${k}`)
                      .join(', '),
                  )
                : ''
          }</td></tr>`,
              )
              .join('')}</tbody></table>`
          : '<p class="muted">No runs yet. Start one from an asset with "Materialize", or with <code>npm run materialize</code>.</p>'
      }</article>`;
    for (const b of container.querySelectorAll('button[data-cancel]')) {
      b.onclick = async () => {
        b.disabled = true;
        await api.cancelRun(b.dataset.cancel).catch((err) => window.alert(err.message));
        await paint();
      };
    }
    return queued.length > 0 || runs.some((r) => r.status === 'running');
  };
  let timer;
  const loop = async () => {
    const active = await paint().catch(() => false);
    if (!signal.aborted) timer = setTimeout(loop, active ? 1500 : 10_000);
  };
  await loop();
  signal.addEventListener('abort', () => clearTimeout(timer));
}
