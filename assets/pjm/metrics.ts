// Forecast accuracy metrics (MAE, RMSE, sMAPE, rMAE against the standard naive forecast and,
// for real-time targets, against the DA price of the same hour) and their breakdown overall,
// by hour and by node. Pure functions over arrays.

/** Mean absolute error. */
export function mae(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair(actual, forecast, 'mae');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i]! - forecast[i]!);
  return sum / actual.length;
}

/** Root mean squared error. */
export function rmse(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair(actual, forecast, 'rmse');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += (actual[i]! - forecast[i]!) ** 2;
  return Math.sqrt(sum / actual.length);
}

/**
 * Symmetric MAPE in percent, as epftoolbox computes it: mean of 2|y - ŷ| / (|y| + |ŷ|), × 100.
 * A pair with y = ŷ = 0 counts as 0 error.
 */
export function smape(actual: ArrayLike<number>, forecast: ArrayLike<number>): number {
  checkPair(actual, forecast, 'smape');
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const denominator = Math.abs(actual[i]!) + Math.abs(forecast[i]!);
    sum += denominator === 0 ? 0 : (2 * Math.abs(actual[i]! - forecast[i]!)) / denominator;
  }
  return (100 * sum) / actual.length;
}

/** Relative MAE: MAE of the forecast divided by MAE of the naive forecast on the same hours. */
export function rmae(actual: ArrayLike<number>, forecast: ArrayLike<number>, naive: ArrayLike<number>): number {
  return mae(actual, forecast) / mae(actual, naive);
}

/**
 * The standard naive day-ahead forecast of (D, h): the price of D-7 at h when D is a Monday,
 * Saturday or Sunday (ISO day of week 1, 6, 7), else the price of D-1 at h.
 */
export function naiveForecast(isoDayOfWeek: number, priceLag1: number, priceLag7: number): number {
  return isoDayOfWeek === 1 || isoDayOfWeek === 6 || isoDayOfWeek === 7 ? priceLag7 : priceLag1;
}

function checkPair(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} actual values but ${b.length} forecasts; give one forecast per actual.`);
  if (a.length === 0) throw new Error(`${what}: no values to score.`);
}

export interface Scores {
  readonly n: number;
  readonly mae: number;
  readonly rmse: number;
  readonly smape: number;
  readonly rmae: number;
  /** MAE of the naive forecast on the same hours (the rMAE denominator). */
  readonly naiveMae: number;
  /**
   * RT targets: MAE of the DA price of the same hour taken as the RT forecast (the usual RT
   * baseline), and the forecast's MAE over it. Absent when an hour has no DA price.
   */
  readonly daBaselineMae?: number;
  readonly rmaeDa?: number;
}

/** Scores of one forecast on a set of hours; with `daPrice` (one per hour, all finite), also against the DA-price baseline. */
export function scores(actual: ArrayLike<number>, forecast: ArrayLike<number>, naive: ArrayLike<number>, daPrice?: ArrayLike<number>): Scores {
  const naiveMae = mae(actual, naive);
  const m = mae(actual, forecast);
  const base = { n: actual.length, mae: m, rmse: rmse(actual, forecast), smape: smape(actual, forecast), rmae: m / naiveMae, naiveMae };
  if (daPrice === undefined || !Array.prototype.every.call(daPrice, Number.isFinite)) return base;
  const daBaselineMae = mae(actual, daPrice);
  return { ...base, daBaselineMae, rmaeDa: m / daBaselineMae };
}

/** One scored hour: who, when, what happened, what was forecast, what the naive rule said. */
export interface ScoredHour {
  readonly nodeId: number;
  readonly hour: number;
  readonly actual: number;
  readonly forecast: number;
  readonly naive: number;
  /** RT targets: the DA price of the same hour (the RT baseline); absent for DA targets. */
  readonly daPrice?: number;
}

export interface MetricsReport {
  readonly overall: Scores;
  /** Keyed by grid hour 0..23. */
  readonly byHour: Readonly<Record<string, Scores>>;
  /** Keyed by node id. */
  readonly byNode: Readonly<Record<string, Scores>>;
}

/** Scores overall, by hour and by node. */
export function metricsReport(hours: readonly ScoredHour[]): MetricsReport {
  const withDa = hours.length > 0 && hours.every((r) => r.daPrice !== undefined);
  const score = (rows: readonly ScoredHour[]): Scores =>
    scores(
      rows.map((r) => r.actual),
      rows.map((r) => r.forecast),
      rows.map((r) => r.naive),
      withDa ? rows.map((r) => r.daPrice!) : undefined,
    );
  const groupBy = (key: (r: ScoredHour) => number): Record<string, Scores> => {
    const groups = new Map<number, ScoredHour[]>();
    for (const r of hours) {
      const k = key(r);
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = []));
      g.push(r);
    }
    return Object.fromEntries([...groups.keys()].sort((a, b) => a - b).map((k) => [String(k), score(groups.get(k)!)]));
  };
  return { overall: score(hours), byHour: groupBy((r) => r.hour), byNode: groupBy((r) => r.nodeId) };
}
