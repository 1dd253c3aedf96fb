// Small helpers every view uses: HTML escaping, formatting of times, durations
// and versions, and status colours. Views build markup as strings and escape
// every value that came from the server.

/** Escapes text for HTML element content and attribute values. */
export function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export const STATUS_COLORS = {
  fresh: '#2e9d5b',
  stale: '#e0a019',
  missing: '#9aa3ad',
  failed: '#d64545',
  running: '#3b7ddd',
};

export const STATUS_ORDER = ['fresh', 'stale', 'missing', 'failed', 'running'];

export function statusChip(status) {
  return `<span class="chip status-${esc(status)}" data-status="${esc(status)}">${esc(status)}</span>`;
}

const FRESHNESS_LABELS = { on_time: 'on time', late: 'late', unknown: 'deadline unknown' };

/** A chip for a deadline verdict (freshness): on time, late or unknown; its reason is the tooltip. */
export function freshnessChip(freshness) {
  if (!freshness) return '';
  return `<span class="chip freshness-${esc(freshness.state)}" data-freshness="${esc(freshness.state)}" title="${esc(freshness.reason)}">${esc(FRESHNESS_LABELS[freshness.state] ?? freshness.state)}</span>`;
}

export function shortVersion(v) {
  return v ? esc(String(v).slice(0, 8)) : '—';
}

export function formatTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return `<time datetime="${d.toISOString()}" title="${d.toISOString()}">${esc(d.toLocaleString())}</time>`;
}

export function ago(ms) {
  if (!ms) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function num(v, digits = 3) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

/** Links inside the app (hash routes). */
export const links = {
  graph: () => '#/',
  asset: (key) => `#/assets/${encodeURIComponent(key)}`,
  partitions: (key, status, partition) => {
    const query = new URLSearchParams({ ...(status ? { status } : {}), ...(partition ? { partition } : {}) }).toString();
    return `#/assets/${encodeURIComponent(key)}/partitions${query ? `?${query}` : ''}`;
  },
  lineage: (id) => `#/materializations/${id}`,
  runs: () => '#/runs',
  run: (id) => `#/runs/${encodeURIComponent(id)}`,
};

/** A metadata value as compact text (numbers, short strings, or JSON for the rest). */
export function metadataValue(v) {
  if (typeof v === 'number') return esc(Number.isInteger(v) ? v.toLocaleString() : v.toPrecision(6));
  if (typeof v === 'string') return esc(v.length > 120 ? `${v.slice(0, 117)}…` : v);
  const text = JSON.stringify(v);
  return `<code>${esc(text.length > 120 ? `${text.slice(0, 117)}…` : text)}</code>`;
}

/** Stacked partition health bar: widths proportional to the counts of each status. */
export function healthBar(counts, attrs = '') {
  const total = counts.total || 1;
  const parts = STATUS_ORDER.filter((s) => counts[s] > 0)
    .map((s) => `<span class="seg" style="width:${((100 * counts[s]) / total).toFixed(2)}%;background:${STATUS_COLORS[s]}" title="${counts[s]} ${s}"></span>`)
    .join('');
  return `<span class="health" ${attrs}>${parts}</span>`;
}

export function countsText(counts) {
  return STATUS_ORDER.filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
}

/** What went wrong, in words: an Error's message, or the thrown value as text. */
export function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}
