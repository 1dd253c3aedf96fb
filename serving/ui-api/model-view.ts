// Reads the model and backtest reports out of materialization metadata (and the
// backtest's stored predictions) into the shapes the UI's charts draw: learning
// curve, feature importance, the comparison table against the naive forecast
// and the published benchmarks, and forecast-versus-actual by node and week.
// The model sidecar is read through its declared, versioned format; the backtest figures from
// where the pipeline's writers put them (backtestIn, beside them in assets/pjm/backtest/report.ts),
// tolerantly: an asset whose metadata lacks a part simply has no such view.
import type { JsonValue, Metadata } from '../../runtime/index.ts';
import { backtestIn, readSidecarDescription, SidecarError, sidecarIn } from '../../assets/pjm/forecasting.ts';
import { dayNumberOf, dayOfNumber } from '../../lib/days.ts';
import { QUANTILE_LEVELS } from '../../lib/forecast-eval/index.ts';

export interface ModelView {
  readonly market: string | null;
  readonly window: { readonly [key: string]: JsonValue } | null;
  readonly featureCount: number | null;
  readonly members: readonly {
    readonly name: string;
    readonly rounds: number | null;
    readonly bestIteration: number | null;
    readonly learningCurve: { readonly train: readonly (number | null)[]; readonly valid: readonly (number | null)[] };
  }[];
  /** Mean total gain over members, largest first. */
  readonly importance: readonly { readonly feature: string; readonly gain: number }[];
  readonly metrics: { readonly [key: string]: JsonValue } | null;
  readonly trainedAt: string | null;
  /** With LEAR served (sidecar format 2): the family, its weights and LEAR windows, in words; null for XGBoost alone. */
  readonly served: string | null;
}

export interface ComparisonRow {
  readonly name: string;
  readonly mae: number | null;
  readonly rmse: number | null;
  readonly smape: number | null;
  readonly rmae: number | null;
}

export interface BacktestView {
  readonly market: string | null;
  readonly testFirstDay: string | null;
  readonly testLastDay: string | null;
  readonly hours: number | null;
  readonly retrains: number | null;
  readonly comparison: readonly ComparisonRow[];
  /** MAE by grid hour 0..23, model and naive. */
  readonly byHour: readonly { readonly hour: number; readonly mae: number | null; readonly naiveMae: number | null }[];
  readonly byNode: readonly { readonly node: string; readonly mae: number | null; readonly rmae: number | null; readonly n: number | null }[];
}

export interface ModelViews {
  readonly model?: ModelView;
  /** Why the metadata's model sidecar cannot be shown (a field that does not match its format). */
  readonly modelProblem?: string;
  readonly backtest?: BacktestView;
  /** When the backtest shown belongs to another asset (a model page shows its group's backtest). */
  readonly backtestAsset?: string;
}

type Obj = { readonly [key: string]: JsonValue };

const isObj = (v: JsonValue | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: JsonValue | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: JsonValue | undefined): string | null => (typeof v === 'string' ? v : null);

/**
 * The model view of a materialization's metadata: its sidecar read through the sidecar's declared
 * format (assets/pjm/model/sidecar.ts), or undefined when the metadata has no sidecar. A sidecar
 * that does not match its format throws a SidecarError naming `where` and the field.
 */
export function readModelView(metadata: Metadata, where = 'the metadata'): ModelView | undefined {
  const raw = sidecarIn(metadata);
  if (raw === undefined) return undefined;
  const sidecar = readSidecarDescription(raw, where);
  const gains = new Map<string, number>();
  for (const m of sidecar.members) for (const [feature, gain] of m.importance) gains.set(feature, (gains.get(feature) ?? 0) + gain / sidecar.members.length);
  return {
    market: sidecar.market,
    window: sidecar.window as Obj,
    featureCount: sidecar.featureNames.length,
    members: sidecar.members.map((m) => ({
      name: m.variant.name,
      rounds: m.rounds,
      bestIteration: m.bestIteration,
      learningCurve: { train: [...m.learningCurve.train], valid: [...m.learningCurve.valid] },
    })),
    importance: [...gains].sort((a, b) => b[1] - a[1]).map(([feature, gain]) => ({ feature, gain })),
    metrics: sidecar.metrics,
    trainedAt: sidecar.trainedAt,
    served: servedText(raw),
  };
}

/** The served family of a format-2 sidecar in words (read tolerantly: the page shows what it can). */
function servedText(raw: JsonValue): string | null {
  const f = isObj(raw) ? raw.families : undefined;
  if (!isObj(f) || !isObj(f.weights) || !isObj(f.lear)) return null;
  const windows = Array.isArray(f.lear.windows) ? f.lear.windows.join('/') : '?';
  const nodes = Array.isArray(f.lear.nodes) ? f.lear.nodes.length : 0;
  const what = f.choice === 'lear' ? 'LEAR (XGBoost where LEAR has no forecast)' : 'the ensemble: the mean of XGBoost and LEAR';
  return `Served: ${what}, weights XGBoost ${num(f.weights.xgboost) ?? '?'} and LEAR ${num(f.weights.lear) ?? '?'}; LEAR on the ${windows}-day windows averaged, fitted for ${nodes} node${nodes === 1 ? '' : 's'}.`;
}

export function readBacktestView(metadata: Metadata): BacktestView | undefined {
  const c = backtestIn(metadata);
  if (c === undefined) return undefined;
  const comparison = (c.comparison as JsonValue[]).filter(isObj).map((r) => ({
    name: str(r.name) ?? '?',
    mae: num(r.mae),
    rmse: num(r.rmse),
    smape: num(r.smape),
    rmae: num(r.rmae),
  }));
  const metrics = isObj(c.metrics) ? c.metrics : {};
  const byHour = isObj(metrics.byHour)
    ? Object.entries(metrics.byHour).flatMap(([h, s]) => (isObj(s) ? [{ hour: Number(h), mae: num(s.mae), naiveMae: num(s.naiveMae) }] : []))
    : [];
  const byNode = isObj(metrics.byNode)
    ? Object.entries(metrics.byNode).flatMap(([node, s]) => (isObj(s) ? [{ node, mae: num(s.mae), rmae: num(s.rmae), n: num(s.n) }] : []))
    : [];
  return {
    market: str(c.market),
    testFirstDay: str(c.testFirstDay),
    testLastDay: str(c.testLastDay),
    hours: num(c.hours),
    retrains: num(c.retrains),
    comparison,
    byHour: byHour.sort((a, b) => a.hour - b.hour),
    byNode,
  };
}

/** The views of a materialization's metadata; a sidecar that does not match its format is a `modelProblem`, in words, instead of a model view. */
export function modelViews(metadata: Metadata, where?: string): ModelViews {
  let model: ModelView | undefined;
  let modelProblem: string | undefined;
  try {
    model = readModelView(metadata, where);
  } catch (err) {
    if (!(err instanceof SidecarError)) throw err;
    modelProblem = err.message;
  }
  const backtest = readBacktestView(metadata);
  return { ...(model ? { model } : {}), ...(modelProblem ? { modelProblem } : {}), ...(backtest ? { backtest } : {}) };
}

// ---- forecast versus actual -------------------------------------------------

export interface PredictedHour {
  readonly node: string;
  /** EPT delivery day, YYYY-MM-DD. */
  readonly day: string;
  readonly hour: number;
  readonly actual: number | null;
  readonly forecast: number | null;
  readonly naive: number | null;
  /** The forecast's 50 % and 90 % intervals ([q25, q75], [q05, q95]) when the backtest stored its quantiles. */
  readonly interval50?: readonly [number, number];
  readonly interval90?: readonly [number, number];
}

/**
 * The 50 % and 90 % intervals of a stored hour's `quantiles` (values at QUANTILE_LEVELS, as
 * pjm/backtest writes them), or nothing when it has none or they are malformed.
 */
function intervalsOf(quantiles: JsonValue | undefined): Pick<PredictedHour, 'interval50' | 'interval90'> {
  if (!Array.isArray(quantiles) || quantiles.length !== QUANTILE_LEVELS.length) return {};
  const q = quantiles.map(num);
  const at = (level: number): number | null => q[QUANTILE_LEVELS.indexOf(level as (typeof QUANTILE_LEVELS)[number])] ?? null;
  const [q05, q25, q75, q95] = [at(0.05), at(0.25), at(0.75), at(0.95)];
  if (q05 === null || q25 === null || q75 === null || q95 === null || !(q05 <= q25 && q25 <= q75 && q75 <= q95)) return {};
  return { interval50: [q25, q75], interval90: [q05, q95] };
}

export interface ForecastVsActual {
  readonly nodes: readonly string[];
  /** Mondays (YYYY-MM-DD) of the weeks that have predictions, oldest first. */
  readonly weeks: readonly string[];
  readonly node: string | null;
  readonly week: string | null;
  /** The chosen node and week, in time order. */
  readonly hours: readonly PredictedHour[];
}

/**
 * The predicted hours of a backtest: pjm/backtest stores `{ report, forecasts }`, each forecast a
 * ForecastHour (assets/pjm/backtest/walk-forward.ts: nodeId, day, hour, actual, forecast,
 * naive, quantiles?). Undefined for a value without that array (another asset's, or an older
 * backtest's without forecasts); an entry that is not a ForecastHour is an error naming it.
 */
export function findPredictions(value: JsonValue | undefined): PredictedHour[] | undefined {
  if (!isObj(value) || !Array.isArray(value.forecasts)) return undefined;
  return value.forecasts.map((r, i) => {
    if (!isObj(r) || typeof r.nodeId !== 'number' || typeof r.day !== 'string' || typeof r.hour !== 'number' || !('forecast' in r)) {
      throw new TypeError(`backtest forecasts[${i}] is not a ForecastHour (nodeId, day, hour, actual, forecast, naive): ${JSON.stringify(r).slice(0, 120)}`);
    }
    return {
      node: String(r.nodeId),
      day: r.day,
      hour: r.hour,
      actual: num(r.actual),
      forecast: num(r.forecast),
      naive: num(r.naive),
      ...intervalsOf(r.quantiles),
    };
  });
}

/** The Monday of `day`'s ISO week. */
export function weekOf(day: string): string {
  const n = dayNumberOf(day);
  // The route validates `week` as a calendar day; a bad day stored in a backtest's value must
  // still say what it was rather than "Invalid time value".
  if (Number.isNaN(n)) throw new RangeError(`weekOf: ${JSON.stringify(day)} is not a YYYY-MM-DD calendar day.`);
  const dow = (((n + 3) % 7) + 7) % 7; // Monday 0: day 0, 1970-01-01, was a Thursday
  return dayOfNumber(n - dow);
}

/** Picks one node and week (the last week of the first node by default). */
export function forecastVsActual(hours: readonly PredictedHour[], wanted: { node?: string; week?: string }): ForecastVsActual {
  const nodes = [...new Set(hours.map((h) => h.node))].sort();
  const node = wanted.node !== undefined && nodes.includes(wanted.node) ? wanted.node : (nodes[0] ?? null);
  const ofNode = hours.filter((h) => h.node === node);
  const weeks = [...new Set(ofNode.map((h) => weekOf(h.day)))].sort();
  const week = wanted.week !== undefined && weeks.includes(weekOf(wanted.week)) ? weekOf(wanted.week) : (weeks[weeks.length - 1] ?? null);
  const picked = ofNode.filter((h) => weekOf(h.day) === week).sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.hour - b.hour));
  return { nodes, weeks, node, week, hours: picked };
}
