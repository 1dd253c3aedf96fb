// The lineage of one materialization: its versions, metadata and checks, the
// tree of what it consumed (each upstream materialization with its data
// version and time) and what consumed it. Many partitions of one upstream
// asset read as one line with a count.
import { api } from '../api.js';
import { duration, esc, formatTime, links, metadataValue, shortVersion } from '../dom.js';

function tree(groups, direction) {
  if (groups.length === 0) return '';
  return `<ul class="lineage-tree">${groups
    .map(
      (
        g,
      ) => `<li class="lineage-group" data-asset="${esc(g.asset)}"><a href="${links.asset(g.asset)}"><b>${esc(g.asset)}</b></a>${g.count > 1 ? ` <span class="muted">— ${g.count} partitions, ${esc(g.firstPartition)} … ${esc(g.lastPartition)}${g.count > g.entries.length ? ` (latest ${g.entries.length} shown)` : ''}</span>` : ''}
        <ul>${g.entries
          .map(
            (
              e,
            ) => `<li class="lineage-entry" data-testid="lineage-${direction}" data-materialization="${e.id}"><a href="${links.lineage(e.id)}">${e.partition ? esc(e.partition) : '#' + e.id}</a>
              data version <code class="version">${shortVersion(e.dataVersion)}</code> · code <code>${esc(e.codeVersion.slice(0, 12))}</code> · ${formatTime(e.endedAt)} · run <a href="${links.run(e.runId)}">${esc(e.runId)}</a>${e.status !== 'published' ? ` <span class="chip status-failed">${esc(e.status)}</span>` : ''}
              ${tree(e.groups, direction)}</li>`,
          )
          .join('')}</ul></li>`,
    )
    .join('')}</ul>`;
}

export async function render(container, { id }, signal) {
  const v = await api.lineage(id);
  if (signal.aborted) return;
  const m = v.materialization;
  const meta = Object.entries(m.metadata);
  container.innerHTML = `<article class="lineage-page" data-testid="lineage-page">
    <p class="crumbs"><a href="${links.graph()}">Graph</a> / <a href="${links.asset(m.asset)}">${esc(m.asset)}</a></p>
    <h1>Lineage of ${esc(m.asset)}${m.partition ? `[${esc(m.partition)}]` : ''} <span class="muted">#${m.id}</span></h1>
    <dl class="facts">
      <dt>Data version</dt><dd><code>${esc(m.dataVersion)}</code> ${m.current ? '<span class="chip status-fresh">current</span>' : '<span class="chip status-missing">superseded</span>'}${m.status !== 'published' ? ` <span class="chip status-failed">${esc(m.status)}</span>` : ''}</dd>
      <dt>Code version</dt><dd><code>${esc(m.codeVersion)}</code></dd>
      <dt>Run</dt><dd><a href="${links.run(m.runId)}">${esc(m.runId)}</a>, ${formatTime(m.endedAt)}, took ${duration(m.durationMs)}</dd>
      ${meta.length ? `<dt>Metadata</dt><dd>${meta.map(([k, val]) => `<span class="kv"><b>${esc(k)}</b> ${metadataValue(val)}</span>`).join(' ')}</dd>` : ''}
      ${m.checks.length ? `<dt>Checks</dt><dd>${m.checks.map((c) => `<span class="chip status-${c.passed ? 'fresh' : 'failed'}">${esc(c.name)}</span>${c.message ? ` ${esc(c.message)}` : ''}`).join(' ')}</dd>` : ''}
    </dl>
    <section><h2>Consumed</h2>${tree(v.lineage.upstream, 'upstream') || '<p class="muted">Nothing: this is a source.</p>'}</section>
    <section><h2>Consumed by</h2>${tree(v.lineage.downstream, 'downstream') || '<p class="muted">Nothing has consumed this version yet.</p>'}</section>
  </article>`;
}
