// Scoring what was served: a kept forecast of day D against D's validated prices, on the
// 24-hour EPT grid the features and the backtest use — MAE, rMAE against the backtest's naive
// forecast (D-7 on Monday, Saturday and Sunday, else D-1, the same hour) and, where the forecast
// carried quantiles, the share of hours inside its 50 % and 90 % central intervals. Sums ride
// with every figure, so days pool into rolling windows exactly (hours weigh alike). Pure.
import { intervalCoverage } from '../../../lib/forecast-eval/index.ts';
import { naiveForecast } from '../metrics.ts';
import type { ForecastOrigin, ServedForecast } from './log.ts';

/** One grid hour of D's validated data, as the features of D hold it. */
export interface ActualHour {
  readonly nodeId: number;
  readonly hour: number;
  /** The validated price of (D, hour) in the forecast's market. */
  readonly actual: number;
  /** ISO day of week of D (1 = Monday) and the prices of D-1 and D-7 at the hour, for the naive forecast. */
  readonly dayOfWeek: number;
  readonly lag1: number;
  readonly lag7: number;
}

/** Sums over scored hours: what rolling windows add up. */
export interface ScoreSums {
  readonly hours: number;
  readonly absError: number;
  readonly naiveAbsError: number;
  /** Hours scored against quantiles, and of those inside the 50 % and 90 % central intervals. */
  readonly quantileHours: number;
  readonly inside50: number;
  readonly inside90: number;
}

/** Figures of some sums: MAE, naive MAE, rMAE, coverages (null where there is nothing to divide by). */
export interface ScoreFigures {
  readonly mae: number | null;
  readonly naiveMae: number | null;
  readonly rmae: number | null;
  readonly coverage50: number | null;
  readonly coverage90: number | null;
}

export interface ForecastScore extends ScoreSums, ScoreFigures {
  readonly origin: ForecastOrigin;
  readonly modelVersion: string;
  readonly nodeId: number;
  readonly issuedAt: number;
  /** The node's last-issued forecast of the day: the one the day's headline figures count. */
  readonly headline: boolean;
}

export interface UnscoredForecast {
  readonly origin: ForecastOrigin;
  readonly modelVersion: string;
  readonly nodeId: number;
  readonly issuedAt: number;
  readonly reason: string;
}

export interface DayScore extends ScoreSums, ScoreFigures {
  readonly day: string;
  readonly market: string;
  /** Every kept forecast of the day that could be scored, by node and issue time. */
  readonly forecasts: readonly ForecastScore[];
  readonly unscored: readonly UnscoredForecast[];
  /** The day in words. */
  readonly summary: string;
}

export const NO_SUMS: ScoreSums = { hours: 0, absError: 0, naiveAbsError: 0, quantileHours: 0, inside50: 0, inside90: 0 };

export function addSums(a: ScoreSums, b: ScoreSums): ScoreSums {
  return {
    hours: a.hours + b.hours,
    absError: a.absError + b.absError,
    naiveAbsError: a.naiveAbsError + b.naiveAbsError,
    quantileHours: a.quantileHours + b.quantileHours,
    inside50: a.inside50 + b.inside50,
    inside90: a.inside90 + b.inside90,
  };
}

export function figuresOf(s: ScoreSums): ScoreFigures {
  return {
    mae: s.hours > 0 ? s.absError / s.hours : null,
    naiveMae: s.hours > 0 ? s.naiveAbsError / s.hours : null,
    rmae: s.hours > 0 && s.naiveAbsError > 0 ? s.absError / s.naiveAbsError : null,
    coverage50: s.quantileHours > 0 ? s.inside50 / s.quantileHours : null,
    coverage90: s.quantileHours > 0 ? s.inside90 / s.quantileHours : null,
  };
}

const hasLevels = (levels: readonly number[] | null, ...wanted: number[]): boolean =>
  levels !== null && wanted.every((w) => levels.some((l) => Math.abs(l - w) < 1e-9));

/** Sums of one forecast over the hours of its node in `actuals`; undefined (with why) when no hour can be scored. */
function scoreOne(f: ServedForecast, actuals: ReadonlyMap<number, ActualHour>): ScoreSums | { readonly unscored: string } {
  const byHour = new Map(f.hours.map((h) => [h.hour, h]));
  const actual: number[] = [];
  const quantiles: number[] = [];
  let absError = 0;
  let naiveAbsError = 0;
  const withQuantiles = hasLevels(f.levels, 0.05, 0.25, 0.75, 0.95) && f.hours.every((h) => h.quantiles !== null && h.quantiles.length === f.levels!.length);
  for (const [hour, a] of [...actuals].sort((x, y) => x[0] - y[0])) {
    const h = byHour.get(hour);
    if (h === undefined || !Number.isFinite(h.value) || !Number.isFinite(a.actual)) continue;
    const naive = naiveForecast(a.dayOfWeek, a.lag1, a.lag7);
    actual.push(a.actual);
    absError += Math.abs(a.actual - h.value);
    naiveAbsError += Math.abs(a.actual - naive);
    if (withQuantiles) quantiles.push(...h.quantiles!);
  }
  if (actual.length === 0)
    return { unscored: `no hour of its forecast has a validated price (the forecast has ${f.hours.length} hours, the day's features ${actuals.size})` };
  const q = withQuantiles ? { levels: f.levels!, values: Float64Array.from(quantiles) } : undefined;
  return {
    hours: actual.length,
    absError,
    naiveAbsError,
    quantileHours: q ? actual.length : 0,
    inside50: q ? Math.round(intervalCoverage(actual, q, 0.5) * actual.length) : 0,
    inside90: q ? Math.round(intervalCoverage(actual, q, 0.9) * actual.length) : 0,
  };
}

/**
 * Scores every forecast kept for `day` in `market` against the day's actual hours (by node).
 * A node without actual hours is unscored, saying so; the headline figures count each node's
 * last-issued forecast once.
 */
export function scoreDay(
  day: string,
  market: string,
  forecasts: readonly ServedForecast[],
  actuals: ReadonlyMap<number, ReadonlyMap<number, ActualHour>>,
): DayScore {
  const scored: ForecastScore[] = [];
  const unscored: UnscoredForecast[] = [];
  const kept = forecasts
    .filter((f) => f.day === day && f.market === market)
    .sort((a, b) => a.nodeId - b.nodeId || a.issuedAt - b.issuedAt || (a.modelVersion < b.modelVersion ? -1 : 1));
  const lastOfNode = new Map<number, ServedForecast>();
  for (const f of kept) {
    const node = actuals.get(f.nodeId);
    const who = { origin: f.origin, modelVersion: f.modelVersion, nodeId: f.nodeId, issuedAt: f.issuedAt };
    if (node === undefined || node.size === 0) {
      unscored.push({
        ...who,
        reason: `no validated ${market.toUpperCase()} prices of node ${f.nodeId} for ${day} yet (its pjm/features partition has no complete row)`,
      });
      continue;
    }
    const sums = scoreOne(f, node);
    if ('unscored' in sums) {
      unscored.push({ ...who, reason: sums.unscored });
      continue;
    }
    scored.push({ ...who, ...sums, ...figuresOf(sums), headline: false });
    lastOfNode.set(f.nodeId, f);
  }
  const forecastsOut = scored.map((s) =>
    lastOfNode.get(s.nodeId)?.modelVersion === s.modelVersion && lastOfNode.get(s.nodeId)?.issuedAt === s.issuedAt ? { ...s, headline: true } : s,
  );
  const total = forecastsOut.filter((s) => s.headline).reduce<ScoreSums>((acc, s) => addSums(acc, s), NO_SUMS);
  const figures = figuresOf(total);
  const summary =
    kept.length === 0
      ? `No forecast of ${day} (${market.toUpperCase()}) was kept: nothing to score.`
      : figures.mae === null
        ? `${kept.length} forecast(s) of ${day} kept, none scored: ${unscored[0]?.reason ?? 'no hour to score'}.`
        : `${day}: ${lastOfNode.size} node(s) scored over ${total.hours} hours, MAE ${figures.mae.toFixed(3)}${figures.rmae !== null ? `, rMAE ${figures.rmae.toFixed(3)}` : ''}${figures.coverage90 !== null ? `, 50 % / 90 % coverage ${(figures.coverage50! * 100).toFixed(1)} % / ${(figures.coverage90 * 100).toFixed(1)} %` : ', no quantiles'}${unscored.length > 0 ? `; ${unscored.length} not scored` : ''}.`;
  return { day, market, ...total, ...figures, forecasts: forecastsOut, unscored, summary };
}

/** A window's pooled figures over the days' headline sums: `days` ending at `endDay` (inclusive, by calendar day). */
export interface RollingScore extends ScoreSums, ScoreFigures {
  readonly windowDays: number;
  readonly endDay: string;
  /** Days in the window with at least one scored hour. */
  readonly scoredDays: number;
}

const addDays = (day: string, n: number): string => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** Rolling figures over `windowDays` calendar days ending at the latest day with a scored hour (undefined when none has). */
export function rollingScore(days: readonly (ScoreSums & { readonly day: string })[], windowDays: number): RollingScore | undefined {
  const scored = days.filter((d) => d.hours > 0);
  if (scored.length === 0) return undefined;
  const endDay = scored
    .map((d) => d.day)
    .sort()
    .at(-1)!;
  const from = addDays(endDay, -(windowDays - 1));
  const inWindow = scored.filter((d) => d.day >= from && d.day <= endDay);
  const sums = inWindow.reduce<ScoreSums>((acc, d) => addSums(acc, d), NO_SUMS);
  return { windowDays, endDay, scoredDays: inWindow.length, ...sums, ...figuresOf(sums) };
}
