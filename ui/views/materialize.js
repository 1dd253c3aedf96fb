// The "Materialize" actions: buttons that start a run in the server process
// (stale only, with upstream, or forced), then show its progress live until it
// ends, with a link to the run page.
import { api } from '../api.js';
import { esc, links, messageOf } from '../dom.js';
import { followRun } from '../live.js';

export function materializeButtons(key) {
  return `<div class="actions" data-asset="${esc(key)}">
    <button type="button" data-mode="stale-only" title="Run this asset's missing and stale partitions">Materialize stale</button>
    <button type="button" data-mode="with-upstream" title="Also run whatever upstream is missing or stale">Materialize with upstream</button>
    <button type="button" data-mode="force" class="secondary" title="Run every partition of this asset, fresh or not">Force</button>
    <div class="run-progress" data-testid="run-progress" hidden></div>
  </div>`;
}

function progressMarkup(runId, state) {
  const p = state.progress;
  const pct = p && p.planned > 0 ? Math.min(100, (100 * p.done) / p.planned) : state.status === 'running' ? 5 : 100;
  const counts = p
    ? `${p.done}/${p.planned} steps · ${p.materialized} materialized${p.running ? ` · ${p.running} running` : ''}${p.failed ? ` · ${p.failed} failed` : ''}${p.blocked ? ` · ${p.blocked} blocked` : ''}`
    : 'starting…';
  return `<div class="progress status-${esc(state.status)}"><span style="width:${pct.toFixed(1)}%"></span></div>
    <p><strong data-testid="run-status">${esc(state.status)}</strong> · ${esc(counts)} · run <a href="${links.run(runId)}">${esc(runId)}</a></p>
    ${state.lastMessage ? `<p class="muted small last-event">${esc(state.lastMessage)}</p>` : ''}
    ${state.error ? `<p class="error">${esc(state.error)}</p>` : ''}`;
}

/** Polls the queue until the run leaves it; true when it was canceled (it never started). */
async function waitWhileQueued(started, out, signal) {
  for (;;) {
    const { runs } = await api.queue();
    const q = runs.find((r) => r.runId === started.runId);
    const recorded = () =>
      api.run(started.runId).then(
        () => true,
        () => false,
      );
    if (!q) {
      // Out of the queue: it ran, or it was canceled (then it has no run record).
      const ran = await recorded();
      if (!ran)
        out.innerHTML = `<p data-testid="run-status">canceled</p><p class="muted">Run ${esc(started.runId)} was canceled while queued; it never started.</p>`;
      return !ran;
    }
    // Launched: follow it once its run is recorded (a moment after the claim).
    if (q.state === 'running' && (await recorded())) return false;
    out.innerHTML = `<p><strong data-testid="run-status">queued</strong> · run ${esc(started.runId)} · <a href="${links.runs()}">queue</a></p>
      <p class="muted small" data-testid="queue-reason">${esc(q.waiting ?? started.waiting ?? '')}</p>`;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (signal.aborted) return false;
  }
}

/**
 * @param {HTMLElement} root
 * @param {AbortSignal} signal
 * @param {{ onStarted?: (runId: string) => void, onFinished?: (run: import('../live.js').RunSummary | null) => void }} [hooks]
 */
export function wireMaterializeButtons(root, signal, hooks = {}) {
  /** @type {HTMLElement | null} */
  const box = root.querySelector('.actions');
  /** @type {HTMLElement | null} */
  const out = box?.querySelector('.run-progress') ?? null;
  if (!box || !out) return;
  /** @type {NodeListOf<HTMLButtonElement>} */
  const buttons = box.querySelectorAll('button[data-mode]');
  for (const button of buttons) {
    button.onclick = async () => {
      for (const b of buttons) b.disabled = true;
      out.hidden = false;
      out.innerHTML = '<p class="muted">Starting…</p>';
      let started;
      try {
        started = await api.materialize(box.dataset.asset, button.dataset.mode);
      } catch (err) {
        out.innerHTML = `<p class="error">${esc(messageOf(err))}</p>`;
        for (const b of buttons) b.disabled = false;
        return;
      }
      if (started.state === 'queued') {
        // Its turn comes when a running run ends: show why it waits, then follow it like any run.
        const canceled = await waitWhileQueued(started, out, signal);
        if (canceled || signal.aborted) {
          for (const b of buttons) b.disabled = false;
          return;
        }
      }
      hooks.onStarted?.(started.runId);
      /** @type {{ status: string, progress: import('../live.js').RunProgress | null, lastMessage: string, error: string | null }} */
      const state = { status: 'running', progress: null, lastMessage: '', error: null };
      const paint = () => (out.innerHTML = progressMarkup(started.runId, state));
      paint();
      followRun(
        started.runId,
        {
          onEvent: (e) => {
            state.lastMessage = e.message;
            paint();
          },
          onProgress: (p) => {
            state.progress = p.progress;
            if (p.run) state.status = p.run.status;
            paint();
          },
          onEnd: (p) => {
            state.progress = p.progress;
            state.status = p.run?.status ?? 'finished';
            state.error = p.run?.error ?? null;
            paint();
            for (const b of buttons) b.disabled = false;
            hooks.onFinished?.(p.run);
          },
        },
        signal,
      );
    };
  }
}
