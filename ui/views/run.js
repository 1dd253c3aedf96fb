// One run: status and progress, what it materialized, and its event log, which
// grows live while the run is in progress (server-sent events), failures in red.
import { api } from '../api.js';
import { duration, esc, formatTime, links, messageOf, shortVersion } from '../dom.js';
import { followRun } from '../live.js';
import { runStatusChip } from './runs.js';

// The worker (host:pid) a step_started names when a pool of `materialize worker` processes ran it.
const workerOf = (e) => {
  const w = e.type === 'step_started' ? e.data?.worker : undefined;
  return w && typeof w.host === 'string' ? `${w.host}:${w.pid}` : '';
};

const stepKey = (asset, partition) => `${asset}[${partition ?? ''}]`;

const eventRow = (e) =>
  `<tr class="level-${esc(e.level)} type-${esc(e.type)}" data-event="${e.id}"><td class="muted small">${esc(new Date(e.ts).toLocaleTimeString())}</td><td class="small">${esc(e.type)}</td><td>${e.asset ? `<a href="${links.asset(e.asset)}">${esc(e.asset)}</a>${e.partition ? `[${esc(e.partition)}]` : ''}` : ''}</td><td class="small worker" data-testid="event-worker">${esc(workerOf(e))}</td><td class="message">${esc(e.message)}</td></tr>`;

function header(run, progress) {
  const pct = progress.planned > 0 ? Math.min(100, (100 * progress.done) / progress.planned) : run.status === 'running' ? 5 : 100;
  return `<h1>Run ${esc(run.id)} <span data-testid="run-status">${runStatusChip(run.status)}</span></h1>
    <div class="progress status-${esc(run.status)}"><span style="width:${pct.toFixed(1)}%"></span></div>
    <p>${progress.done}/${progress.planned} steps done · ${progress.materialized} materialized · ${progress.skipped} skipped${progress.running ? ` · ${progress.running} running` : ''}${progress.failed ? ` · <span class="error">${progress.failed} failed</span>` : ''}${progress.blocked ? ` · <span class="error">${progress.blocked} blocked</span>` : ''}</p>
    <dl class="facts"><dt>Selection</dt><dd><code>${esc(run.selection)}</code>${run.partitions ? ` partitions ${esc(run.partitions)}` : ''}</dd><dt>Trigger</dt><dd>${esc(run.trigger)}</dd>
    <dt>Started</dt><dd>${formatTime(run.startedAt)}</dd><dt>Duration</dt><dd>${run.endedAt ? duration(run.durationMs) : `${duration(Date.now() - run.startedAt)} so far`}</dd></dl>
    ${run.error ? `<p class="error" data-testid="run-error">${esc(run.error)}</p>` : ''}
    ${run.status === 'running' && run.trigger === 'ui' ? '<p><button type="button" class="secondary" data-action="cancel">Cancel run</button> <span class="cancel-result muted"></span></p>' : ''}`;
}

export async function render(container, { id }, signal) {
  const v = await api.run(id);
  if (signal.aborted) return;
  container.innerHTML = `<article class="run-page" data-testid="run-page">
    <p class="crumbs"><a href="${links.runs()}">Runs</a></p>
    <div class="run-header">${header(v.run, v.progress)}</div>
    <section class="run-materializations"></section>
    <section><h2>Event log</h2><table class="events" data-testid="event-log"><tbody>${v.events.map(eventRow).join('')}</tbody></table></section>
  </article>`;
  // Which worker last started each step (a retried step names the worker that finished it).
  const workers = new Map();
  const noteWorkers = (events) => {
    for (const e of events) if (workerOf(e)) workers.set(stepKey(e.asset, e.partition), workerOf(e));
  };
  noteWorkers(v.events);
  const paintMaterializations = (list) => {
    const anyWorker = list.some((m) => workers.has(stepKey(m.asset, m.partition)));
    container.querySelector('.run-materializations').innerHTML = list.length
      ? `<h2>Materialized</h2><table data-testid="run-materializations">${anyWorker ? '<thead><tr><th>Step</th><th>Version</th><th>Duration</th><th>Worker</th><th></th></tr></thead>' : ''}<tbody>${list.map((m) => `<tr data-step="${esc(stepKey(m.asset, m.partition))}"><td><a href="${links.asset(m.asset)}">${esc(m.asset)}</a>${m.partition ? `[${esc(m.partition)}]` : ''}</td><td><code>${shortVersion(m.dataVersion)}</code>${m.status !== 'published' ? ` <span class="chip status-failed">${esc(m.status)}</span>` : ''}</td><td>${duration(m.durationMs)}</td>${anyWorker ? `<td class="small worker" data-testid="materialization-worker">${esc(workers.get(stepKey(m.asset, m.partition)) ?? '')}</td>` : ''}<td><a href="${links.lineage(m.id)}">lineage</a></td></tr>`).join('')}</tbody></table>`
      : '';
  };
  paintMaterializations(v.materializations);
  container.querySelector('.run-header').addEventListener('click', async (ev) => {
    const button = ev.target.closest('[data-action="cancel"]');
    if (!button) return;
    button.disabled = true;
    // The run may end (and the header be repainted without its cancel line) while the request is
    // out: then the repainted page already says what happened, and there is nothing to write.
    const say = (text) => {
      const line = container.querySelector('.cancel-result');
      if (line) line.textContent = text;
    };
    try {
      await api.cancelRun(id);
      say('canceling…');
    } catch (err) {
      say(messageOf(err));
      button.disabled = false;
    }
  });
  if (v.run.status !== 'running') return;
  const body = container.querySelector('.events tbody');
  followRun(
    id,
    {
      onEvent: (e) => {
        noteWorkers([e]);
        body.insertAdjacentHTML('beforeend', eventRow(e));
      },
      onProgress: ({ run, progress }) => {
        if (run) container.querySelector('.run-header').innerHTML = header(run, progress);
      },
      onEnd: async ({ run, progress }) => {
        if (run) container.querySelector('.run-header').innerHTML = header(run, progress);
        const final = await api.run(id).catch(() => null);
        if (final && !signal.aborted) paintMaterializations(final.materializations);
      },
    },
    signal,
    v.lastEventId,
  );
}
