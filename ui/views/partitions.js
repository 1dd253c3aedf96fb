// All partitions of one asset, newest first, filtered by status (and, as on the
// command line, by a `-p`-style filter such as node=51288), each with its causes
// and a link to its current version's lineage. A two-dimensional (node x day)
// asset also gets one health bar per node, which filters the list to that node.
import { api } from '../api.js';
import { countsText, esc, formatTime, healthBar, links, messageOf, shortVersion, STATUS_ORDER, statusChip } from '../dom.js';

export async function render(container, { key, query }, signal) {
  const status = query.get('status') ?? undefined;
  const partition = query.get('partition') ?? undefined;
  const offset = Number(query.get('offset') ?? 0);
  const view = await api.partitions(key, { limit: 500, offset, ...(status ? { status } : {}), ...(partition ? { partition } : {}) });
  if (signal.aborted) return;
  const filters = STATUS_ORDER.filter((s) => view.counts[s] > 0)
    .map(
      (s) =>
        `<a class="filter${s === status ? ' on' : ''}" href="${links.partitions(key, s === status ? undefined : s, partition)}">${view.counts[s]} ${s}</a>`,
    )
    .join(' ');
  const grid = view.dimension
    ? `<table class="partition-grid" data-testid="dimension-grid"><thead><tr><th>${esc(view.dimension.name)}</th><th>Health</th><th></th></tr></thead><tbody>${view.dimension.values
        .map((v) => {
          const filter = `${view.dimension.name}=${v.value}`;
          return `<tr${filter === partition ? ' class="on"' : ''}><td><a href="${links.partitions(key, status, filter === partition ? undefined : filter)}">${esc(v.value)}</a></td><td>${healthBar(v.counts)}</td><td class="small">${countsText(v.counts)}</td></tr>`;
        })
        .join('')}</tbody></table>`
    : '';
  container.innerHTML = `<article>
    <p class="crumbs"><a href="${links.graph()}">Graph</a> / <a href="${links.asset(key)}">${esc(key)}</a></p>
    <h1>Partitions of ${esc(key)}</h1>
    <p>${healthBar(view.counts)} ${view.counts.total} partitions${partition ? ` matching <code>${esc(partition)}</code> (<a href="${links.partitions(key, status)}">all</a>)` : ''} · ${filters}</p>
    ${grid}
    <table class="partitions" data-testid="partition-list"><thead><tr><th>Partition</th><th>Status</th><th>Why</th><th>Data version</th><th>Materialized</th><th></th></tr></thead><tbody>${view.partitions
      .map(
        (
          p,
        ) => `<tr><td>${p.materializationId ? `<a href="${links.lineage(p.materializationId)}">${esc(p.partition)}</a>` : esc(p.partition)}</td><td>${statusChip(p.status)}</td>
        <td class="small">${p.causes.map(esc).join('<br>') || '<span class="muted">—</span>'}</td><td><code>${shortVersion(p.dataVersion)}</code></td><td>${formatTime(p.endedAt)}</td>
        <td>${p.status === 'fresh' || p.status === 'running' ? '' : `<button type="button" class="secondary small" data-partition="${esc(p.partition)}" title="Materialize this partition (and nothing else)">Materialize</button>`}</td></tr>`,
      )
      .join('')}</tbody></table>
    ${view.matching > offset + view.partitions.length ? `<p><a href="#/assets/${encodeURIComponent(key)}/partitions?${new URLSearchParams({ ...(status ? { status } : {}), ...(partition ? { partition } : {}), offset: String(offset + 500) })}">next 500</a></p>` : ''}
  </article>`;
  // One partition at a time: the run page then shows it live.
  container.querySelector('[data-testid=partition-list]').addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-partition]');
    if (!button) return;
    button.disabled = true;
    try {
      const started = await api.materialize(key, 'stale-only', button.dataset.partition);
      location.hash = links.run(started.runId);
    } catch (err) {
      button.replaceWith(Object.assign(document.createElement('span'), { className: 'error small', textContent: messageOf(err) }));
    }
  });
}
