// The asset page: description, code and data versions, status with its causes
// in words, materialize actions, partitions, checks with their reports,
// materialization history (each row links to its lineage), and, for the model
// and the backtest, their charts and tables.
import { api } from '../api.js';
import { duration, esc, formatTime, freshnessChip, healthBar, links, metadataValue, shortVersion, statusChip, countsText } from '../dom.js';
import { materializeButtons, wireMaterializeButtons } from './materialize.js';
import { renderModelViews } from './model.js';
import { renderScoreViews } from './scores.js';
import { lineChart } from '../charts.js';

/** The asset that scores the served forecasts: its page shows their live accuracy. */
const SCORE_ASSET = 'pjm/forecast_score';

function metadataSummary(metadata) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return '<span class="muted">—</span>';
  const simple = entries.filter(([, v]) => v === null || typeof v !== 'object').slice(0, 4);
  const rest = entries.length - simple.length;
  return `${simple.map(([k, v]) => `<span class="kv"><b>${esc(k)}</b> ${metadataValue(v)}</span>`).join(' ')}${rest > 0 ? ` <span class="muted">+${rest} more</span>` : ''}`;
}

function checksTable(results) {
  return `<table class="checks" data-testid="checks"><thead><tr><th>Check</th><th>Result</th><th>Message</th><th>Report</th></tr></thead><tbody>${results
    .map(
      (c) => `<tr><td>${esc(c.name)}${c.blocking ? '' : ' <span class="muted">(warning only)</span>'}</td>
        <td>${c.passed ? '<span class="chip status-fresh">passed</span>' : `<span class="chip status-failed">${c.blocking ? 'failed' : 'warned'}</span>`}</td>
        <td>${esc(c.message)}</td>
        <td>${Object.keys(c.metadata).length ? `<details><summary>report</summary><pre>${esc(JSON.stringify(c.metadata, null, 2))}</pre></details>` : '<span class="muted">—</span>'}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

/** `keepActions`: the live actions element of the previous render (buttons, run progress), moved into the new page. */
export async function render(container, { key }, signal, keepActions = null) {
  const a = await api.asset(key);
  if (signal.aborted) return;
  const partitioned = a.partitions !== null;
  container.innerHTML = `
    <article class="asset-page" data-testid="asset-page" data-asset="${esc(a.key)}">
      <p class="crumbs"><a href="${links.graph()}">Graph</a> / ${esc(a.group)}</p>
      <h1>${esc(a.key)} <span data-testid="asset-status">${statusChip(a.status)}</span></h1>
      ${a.description ? `<p class="lead">${esc(a.description)}</p>` : ''}
      <dl class="facts">
        <dt>Code version</dt><dd><code>${esc(a.codeVersion)}</code>${a.codeVersionIsDerived ? ' <span class="muted">(hash of the function source)</span>' : ''}</dd>
        <dt>Current data version</dt><dd>${a.current ? `<code data-testid="data-version">${shortVersion(a.current.dataVersion)}</code> ${partitioned ? `(partition ${esc(a.current.partition)}) ` : ''}materialized ${formatTime(a.current.endedAt)} by run <a href="${links.run(a.current.runId)}">${esc(a.current.runId)}</a> · <a href="${links.lineage(a.current.materializationId)}">lineage</a>` : '<span class="muted">never materialized</span>'}</dd>
        ${a.freshness ? `<dt>Deadline</dt><dd data-testid="freshness">${freshnessChip(a.freshness)} ${esc(a.freshness.reason)}</dd>` : ''}
        <dt>Storage</dt><dd>${esc(a.io)}</dd>
        <dt>Partitions</dt><dd>${partitioned ? `${esc(a.partitions.description)} · ${healthBar(a.counts)} ${esc(countsText(a.counts))} · <a href="${links.partitions(a.key)}" data-testid="partitions-link">list</a>` : 'unpartitioned'}</dd>
        <dt>Upstream</dt><dd>${a.deps.length ? a.deps.map((d) => `<a href="${links.asset(d.asset)}">${esc(d.asset)}</a> <span class="muted">(${esc(d.mapping)})</span>`).join(', ') : '<span class="muted">none</span>'}</dd>
        <dt>Downstream</dt><dd>${a.children.length ? a.children.map((c) => `<a href="${links.asset(c)}">${esc(c)}</a>`).join(', ') : '<span class="muted">none</span>'}</dd>
      </dl>

      <section class="status-box status-${esc(a.status)}">
        <h2>Status: ${esc(a.status)}</h2>
        ${a.causes.length ? `<ul class="causes" data-testid="causes">${a.causes.map((c) => `<li>${esc(c.text)}${partitioned ? ` <span class="muted">(${c.partitions} partition${c.partitions === 1 ? '' : 's'})</span>` : ''}</li>`).join('')}</ul>` : `<p data-testid="causes">${a.status === 'fresh' ? 'Up to date: its code and every input it consumed are current.' : a.status === 'missing' ? (a.current ? 'Some partitions were never materialized.' : 'Never materialized.') : ''}</p>`}
        ${materializeButtons(a.key)}
      </section>

      <section class="model-views"></section>

      ${a.key === SCORE_ASSET ? '<section class="score-views"></section>' : ''}

      <section class="metadata-chart"></section>

      ${a.checks.length ? `<section><h2>Checks</h2>${a.latestChecks ? `<p class="muted">Latest results (materialization <a href="${links.lineage(a.latestChecks.materializationId)}">#${a.latestChecks.materializationId}</a>${a.latestChecks.partition ? `, partition ${esc(a.latestChecks.partition)}` : ''}):</p>${checksTable(a.latestChecks.results)}` : `<p class="muted">Declared: ${a.checks.map((c) => esc(c.name)).join(', ')}; not run yet.</p>`}</section>` : ''}

      <section>
        <h2>Materialization history</h2>
        ${
          a.history.length
            ? `<table class="history" data-testid="history"><thead><tr><th>When</th>${partitioned ? '<th>Partition</th>' : ''}<th>Run</th><th>Duration</th><th>Data version</th><th>Code</th><th>Metadata</th><th></th></tr></thead><tbody>${a.history
                .map(
                  (
                    h,
                  ) => `<tr class="${h.status === 'blocked' ? 'blocked' : ''}"><td>${formatTime(h.endedAt)}</td>${partitioned ? `<td>${esc(h.partition)}</td>` : ''}<td><a href="${links.run(h.runId)}">${esc(h.runId)}</a></td><td>${duration(h.durationMs)}</td>
              <td><code>${shortVersion(h.dataVersion)}</code>${h.status === 'blocked' ? ' <span class="chip status-failed">blocked</span>' : ''}</td><td><code>${esc(h.codeVersion.slice(0, 12))}</code></td>
              <td>${metadataSummary(h.metadata)}</td><td><a href="${links.lineage(h.id)}" data-testid="lineage-link">lineage</a></td></tr>`,
                )
                .join('')}</tbody></table>`
            : '<p class="muted">No materializations yet.</p>'
        }
      </section>
    </article>`;
  if (keepActions) container.querySelector('.actions').replaceWith(keepActions);
  else {
    wireMaterializeButtons(container, signal, {
      // Reload the page's data so status and history follow; the actions and their progress stay as they are.
      onFinished: () => {
        if (!signal.aborted) void render(container, { key }, signal, container.querySelector('.actions'));
      },
    });
  }
  renderModelViews(container.querySelector('.model-views'), a, signal);
  if (a.key === SCORE_ASSET) void renderScoreViews(container.querySelector('.score-views'), signal);
  renderMetadataChart(container.querySelector('.metadata-chart'), a);
}

/**
 * Numeric metadata (row counts, means, ...) across the published history: by
 * partition for a partitioned asset, by materialization otherwise. A day with 23
 * or 25 hourly rows (a DST change) or a sudden drop shows at a glance.
 */
function renderMetadataChart(box, asset) {
  const published = asset.history.filter((h) => h.status === 'published');
  const entries = asset.partitions
    ? [...new Map(published.map((h) => [h.partition, h])).values()].sort((x, y) => (x.partition < y.partition ? -1 : 1))
    : published.slice().reverse();
  const keys = [...new Set(entries.flatMap((h) => Object.keys(h.metadata).filter((k) => typeof h.metadata[k] === 'number')))];
  const usable = keys.filter((k) => entries.filter((h) => typeof h.metadata[k] === 'number').length >= 2);
  if (usable.length === 0) {
    box.remove();
    return;
  }
  const paint = (key) => {
    box.querySelector('.chart-box').innerHTML = lineChart({
      testId: 'metadata-chart',
      title: `${key} by ${asset.partitions ? 'partition' : 'materialization'}`,
      yLabel: key,
      height: 220,
      xLabels: entries.map((h) => (asset.partitions ? h.partition : new Date(h.endedAt).toISOString().slice(5, 16).replace('T', ' '))),
      series: [{ name: key, color: '#3b7ddd', values: entries.map((h) => (typeof h.metadata[key] === 'number' ? h.metadata[key] : null)) }],
    });
    box.querySelector('.chart-box').dataset.points = String(entries.length);
  };
  const preferred = usable.find((k) => /^(rowCount|rows)$/.test(k)) ?? usable[0];
  box.innerHTML = `<h2>Metadata by ${asset.partitions ? 'partition' : 'materialization'}</h2>
    <label>Value <select name="metadata-key">${usable.map((k) => `<option${k === preferred ? ' selected' : ''}>${esc(k)}</option>`).join('')}</select></label>
    <span class="muted small">latest ${entries.length} ${asset.partitions ? 'partitions' : 'materializations'}</span><div class="chart-box"></div>`;
  box.querySelector('select').onchange = (ev) => paint(ev.target.value);
  paint(preferred);
}
