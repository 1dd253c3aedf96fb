// Hand-written SVG charts: a line chart (forecast versus actual with its
// interval bands, learning curves) and a horizontal bar chart (feature
// importance, MAE by hour). Each returns markup; values are numbers and labels
// are escaped.
import { esc } from './dom.js';

function niceTicks(min, max, count = 5) {
  if (!(max > min)) return [min];
  const step0 = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

/**
 * @param {{ series: { name: string, color: string, values: (number|null)[], dash?: boolean, dots?: boolean }[],
 *           xLabels?: string[], xTickEvery?: number, yLabel?: string, width?: number, height?: number, title?: string, testId?: string,
 *           markers?: { index: number, label: string }[],
 *           bands?: { name: string, color: string, lower: (number|null)[], upper: (number|null)[] }[] }} spec
 *   markers: vertical lines at x positions (e.g. the best iteration); bands: shaded areas between
 *   lower and upper (e.g. a forecast's 90 % interval), drawn under the lines, widest first as given,
 *   broken where either edge is missing
 */
export function lineChart(spec) {
  const width = spec.width ?? 760;
  const height = spec.height ?? 280;
  const m = { left: 56, right: 44, top: 28, bottom: 40 };
  const n = Math.max(0, ...spec.series.map((s) => s.values.length));
  const bands = spec.bands ?? [];
  /**
   * @param {number | null | undefined} v
   * @returns {v is number}
   */
  const finite = (v) => typeof v === 'number' && Number.isFinite(v);
  const all = [...spec.series.flatMap((s) => s.values), ...bands.flatMap((b) => [...b.lower, ...b.upper])].filter(finite);
  if (n === 0 || all.length === 0) return `<p class="muted">No data to chart.</p>`;
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  lo -= pad;
  hi += pad;
  const x = (i) => m.left + (n === 1 ? 0 : (i / (n - 1)) * (width - m.left - m.right));
  const y = (v) => m.top + (1 - (v - lo) / (hi - lo)) * (height - m.top - m.bottom);
  const grid = niceTicks(lo, hi)
    .map(
      (t) =>
        `<line class="grid" x1="${m.left}" x2="${width - m.right}" y1="${y(t)}" y2="${y(t)}"/><text class="tick" x="${m.left - 6}" y="${y(t) + 4}" text-anchor="end">${esc(Number(t.toPrecision(6)))}</text>`,
    )
    .join('');
  const every = spec.xTickEvery ?? Math.max(1, Math.ceil(n / 8));
  const xTicks = (spec.xLabels ?? [])
    .map((label, i) => (i % every === 0 ? `<text class="tick" x="${x(i)}" y="${height - m.bottom + 16}" text-anchor="middle">${esc(label)}</text>` : ''))
    .join('');
  const lines = spec.series
    .map((s) => {
      let d = '';
      let pen = false;
      s.values.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      });
      // Dots on each value when asked: a series of one or a few days is otherwise a dot-less line, or nothing.
      const dots = s.dots
        ? s.values
            .map((v, i) => (finite(v) ? `<circle class="dot" cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${esc(s.color)}"/>` : ''))
            .join('')
        : '';
      return `<path class="series" data-series="${esc(s.name)}" d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="1.6"${s.dash ? ' stroke-dasharray="5 4"' : ''}/>${dots}`;
    })
    .join('');
  // One closed path per band: along the upper edge, back along the lower one; a gap (an hour
  // without an interval) ends a piece. data-points counts the hours drawn.
  const areas = bands
    .map((b) => {
      let d = '';
      let points = 0;
      let run = [];
      const flush = () => {
        if (run.length > 0) {
          d += run.map((i, k) => `${k === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(b.upper[i]).toFixed(1)}`).join('');
          d +=
            [...run]
              .reverse()
              .map((i) => `L${x(i).toFixed(1)},${y(b.lower[i]).toFixed(1)}`)
              .join('') + 'Z';
          points += run.length;
        }
        run = [];
      };
      for (let i = 0; i < n; i++) {
        if (finite(b.lower[i]) && finite(b.upper[i])) run.push(i);
        else flush();
      }
      flush();
      return points === 0
        ? ''
        : `<path class="band" data-band="${esc(b.name)}" data-points="${points}" d="${d}" fill="${esc(b.color)}" fill-opacity="0.22" stroke="none"/>`;
    })
    .join('');
  const drawnBands = bands.filter((b) => b.lower.some((v, i) => finite(v) && finite(b.upper[i])));
  const keys = [
    ...spec.series.map((s) => ({ name: s.name, color: s.color, area: false })),
    ...drawnBands.map((b) => ({ name: b.name, color: b.color, area: true })),
  ];
  const spacing = keys.length > 4 ? 128 : 150;
  const legend = keys
    .map(
      (s, i) =>
        `<g transform="translate(${m.left + i * spacing},12)"><rect width="14" height="${s.area ? 9 : 3}" y="${s.area ? -7 : -4}" fill="${esc(s.color)}"${s.area ? ' fill-opacity="0.35"' : ''}/><text class="legend" x="20" y="0">${esc(s.name)}</text></g>`,
    )
    .join('');
  const markers = (spec.markers ?? [])
    .filter((mk) => mk.index >= 0 && mk.index < n)
    .map(
      (mk) =>
        `<g class="marker"><line x1="${x(mk.index)}" x2="${x(mk.index)}" y1="${m.top}" y2="${height - m.bottom}" stroke="#888" stroke-dasharray="3 3"/><text class="tick" x="${x(mk.index) + (mk.index > n / 2 ? -4 : 4)}" y="${m.top + 10}" text-anchor="${mk.index > n / 2 ? 'end' : 'start'}">${esc(mk.label)}</text></g>`,
    )
    .join('');
  return `<svg class="chart" ${spec.testId ? `data-testid="${esc(spec.testId)}"` : ''} viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(spec.title ?? 'chart')}">
    ${grid}${xTicks}${markers}${areas}${lines}${legend}
    ${spec.yLabel ? `<text class="axis" transform="translate(14,${(height - m.bottom + m.top) / 2}) rotate(-90)" text-anchor="middle">${esc(spec.yLabel)}</text>` : ''}
  </svg>`;
}

/** @param {{ items: { label: string, value: number, color?: string }[], width?: number, format?: (v: number) => string, testId?: string, title?: string }} spec */
export function barChart(spec) {
  const items = spec.items.filter((i) => Number.isFinite(i.value));
  if (items.length === 0) return `<p class="muted">No data to chart.</p>`;
  const width = spec.width ?? 760;
  const row = 20;
  const labelWidth = Math.min(260, 8 + 7 * Math.max(...items.map((i) => i.label.length)));
  const height = items.length * row + 10;
  const max = Math.max(...items.map((i) => Math.abs(i.value))) || 1;
  const fmt = spec.format ?? ((v) => v.toPrecision(4));
  const bars = items
    .map((it, i) => {
      const w = ((width - labelWidth - 80) * Math.abs(it.value)) / max;
      const yy = 5 + i * row;
      return `<g class="bar"><text class="tick" x="${labelWidth - 6}" y="${yy + 13}" text-anchor="end">${esc(it.label)}</text>
        <rect x="${labelWidth}" y="${yy + 2}" width="${w.toFixed(1)}" height="${row - 6}" fill="${esc(it.color ?? '#4a78c2')}"/>
        <text class="tick" x="${labelWidth + w + 6}" y="${yy + 13}">${esc(fmt(it.value))}</text></g>`;
    })
    .join('');
  return `<svg class="chart" ${spec.testId ? `data-testid="${esc(spec.testId)}"` : ''} viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(spec.title ?? 'bar chart')}">${bars}</svg>`;
}
