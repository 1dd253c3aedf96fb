// LEAR's daily panel (lib/lear) from the pipeline's own feature rows, per node, for any feature
// set: so LEAR runs on whatever data the model runs on (epftoolbox, Data Miner DA or RT, with
// or without load), not only on epftoolbox's CSV. The panel's prices are the rows' targets;
// its exogenous series are the hourly inputs of D the feature set has (the DA price of D for
// an RT target, the system and zone load forecasts of D, metered load of D-1). LEAR itself
// takes the lags D-1, D-2, D-3, D-7 of the prices and D, D-1, D-7 of each exogenous series.
import type { DailyPanel } from '../../../lib/lear/index.ts';
import type { FeatureSet } from '../features/columns.ts';
import { PRICE_LAGS } from '../features/columns.ts';
import { dayOfNumber } from '../../../lib/days.ts';
import type { FeatureTable } from '../model/dataset.ts';

/** The hourly feature columns of day D that become LEAR's exogenous series, in this order. */
export function learExogenousColumns(set: FeatureSet): string[] {
  return [
    ...(set.inputs.includes('da_price') ? ['da_price_h'] : []),
    ...(set.inputs.includes('load_forecast') ? ['load_sys_h', 'load_zone_h'] : []),
    ...(set.inputs.includes('load_metered') ? ['mload_lag1_h'] : []),
  ];
}

export interface NodePanel {
  readonly nodeId: number;
  /** Day number (days since 1970-01-01) of the panel's first day. */
  readonly firstDayNumber: number;
  /** The exogenous columns of `panel.exogenous`, in order (a column with no value for this node, e.g. a zone load of a node without a zone, is left out). */
  readonly exogenousColumns: readonly string[];
  readonly panel: DailyPanel;
}

const hh = (h: number): string => String(h).padStart(2, '0');

/**
 * One panel per node over its days (first..last day with a feature row, consecutive: a day
 * without rows stays NaN, and LEAR's callers skip windows that hold one). A day's price comes
 * from its target, or, when the target is not known (the forecast day's neighbours, a blocked
 * day), from a later day's lag profile (`price_lagK_hHH` of day D is the price of D-K), so the
 * last known days are complete even though their own targets are the newest.
 */
export function learPanelsFromFeatures(table: FeatureTable): NodePanel[] {
  const candidates = learExogenousColumns(table.featureSet);
  for (const c of candidates) {
    if (table.features[c] === undefined)
      throw new Error(`learPanelsFromFeatures: the feature table lacks ${c}, which its feature set implies; rebuild the features.`);
  }
  const out: NodePanel[] = [];
  for (const [nodeId, rows] of [...rowsByNode(table)].sort((a, b) => a[0] - b[0])) {
    let first = Infinity;
    let last = -Infinity;
    for (const i of rows) {
      first = Math.min(first, table.dayNumber[i]!);
      last = Math.max(last, table.dayNumber[i]!);
    }
    const exogenousColumns = candidates.filter((c) => rows.some((i) => Number.isFinite(table.features[c]![i]!)));
    out.push(nodePanel(table, nodeId, rows, { firstDayNumber: first, lastDayNumber: last, exogenousColumns }));
  }
  return out;
}

/**
 * The panel of one node over the given days and exogenous columns, built as
 * `learPanelsFromFeatures` builds it from the rows `table` has of that node: what a served
 * model (whose columns and days are fixed) reads for one forecast day from a few days' rows.
 */
export function learPanelForNode(
  table: FeatureTable,
  nodeId: number,
  span: { readonly firstDayNumber: number; readonly lastDayNumber: number; readonly exogenousColumns: readonly string[] },
): NodePanel {
  for (const c of span.exogenousColumns) {
    if (table.features[c] === undefined)
      throw new Error(`learPanelForNode: the feature rows lack ${c}, which the LEAR model of node ${nodeId} reads; build them with the model's feature set.`);
  }
  return nodePanel(table, nodeId, rowsByNode(table).get(nodeId) ?? [], span);
}

function rowsByNode(table: FeatureTable): Map<number, number[]> {
  const byNode = new Map<number, number[]>();
  for (let i = 0; i < table.rows; i++) {
    const id = table.nodeId[i]!;
    let list = byNode.get(id);
    if (list === undefined) byNode.set(id, (list = []));
    list.push(i);
  }
  return byNode;
}

function nodePanel(
  table: FeatureTable,
  nodeId: number,
  allRows: readonly number[],
  span: { readonly firstDayNumber: number; readonly lastDayNumber: number; readonly exogenousColumns: readonly string[] },
): NodePanel {
  const first = span.firstDayNumber;
  const days = span.lastDayNumber - first + 1;
  const rows = allRows.filter((i) => table.dayNumber[i]! >= first && table.dayNumber[i]! <= span.lastDayNumber);
  const { exogenousColumns } = span;
  const prices = new Float64Array(days * 24).fill(Number.NaN);
  const exogenous = exogenousColumns.map(() => new Float64Array(days * 24).fill(Number.NaN));
  for (const i of rows) {
    const d = table.dayNumber[i]! - first;
    const h = table.hour[i]!;
    if (h < 0 || h > 23) continue;
    if (Number.isFinite(table.target[i]!)) prices[d * 24 + h] = table.target[i]!;
    for (const [k, c] of exogenousColumns.entries()) exogenous[k]![d * 24 + h] = table.features[c]![i]!;
  }
  // Prices not known from a target: from the lag profiles of later days (any of their rows carries the whole profile).
  for (const i of rows) {
    if (table.hour[i] !== 0) continue;
    const d = table.dayNumber[i]! - first;
    for (const lag of PRICE_LAGS) {
      const p = d - lag;
      if (p < 0) continue;
      for (let h = 0; h < 24; h++) {
        if (Number.isFinite(prices[p * 24 + h]!)) continue;
        const v = table.features[`price_lag${lag}_h${hh(h)}`]?.[i];
        if (v !== undefined && Number.isFinite(v)) prices[p * 24 + h] = v;
      }
    }
  }
  return {
    nodeId,
    firstDayNumber: first,
    exogenousColumns,
    panel: { days: Array.from({ length: days }, (_, d) => dayOfNumber(first + d)), prices, exogenous },
  };
}

/**
 * Per panel day, whether its 24 prices and every exogenous value are finite: a LEAR window
 * (or a target day's inputs) is usable only over complete days.
 */
export function completeDays(panel: DailyPanel): Uint8Array {
  const n = panel.days.length;
  const out = new Uint8Array(n);
  for (let d = 0; d < n; d++) {
    let ok = true;
    for (let h = 0; h < 24 && ok; h++) {
      if (!Number.isFinite(panel.prices[d * 24 + h]!)) ok = false;
      for (const e of panel.exogenous) if (!Number.isFinite(e[d * 24 + h]!)) ok = false;
    }
    out[d] = ok ? 1 : 0;
  }
  return out;
}
