// From feature rows to the forecast of a day, with the forecasting code's own `predictRows`
// (the transform, target definition and iteration range the model was trained with) and
// `realHoursOfDay` (grid hours back to real UTC/EPT hours). Explanations are XGBoost's SHAP
// values of the same design matrix. Synchronous and free of I/O.
import { designMatrix, forecastNodeDay, predictRows, type NodeDayForecast, type TrainedMember, type TrainedModel } from '../../assets/pjm/forecasting.ts';
import type { FeatureTable } from '../../assets/pjm/forecasting.ts';
import { realHoursOfDay, type RealHour } from '../../assets/pjm/forecasting.ts';
import type { Market } from '../../assets/pjm/forecasting.ts';
import { HttpError } from '../http/errors.ts';
import { quantilesAt } from '../../assets/pjm/forecasting.ts';
import { Lru } from '../data/lru.ts';
import type { ServedModel } from '../model/registry.ts';

/** One member's SHAP values for one row, in that member's output space. */
export interface MemberExplanation {
  readonly member: string;
  readonly target: string;
  readonly bias: number;
  readonly contributions: Record<string, number>;
}

export interface Explanation {
  readonly members: readonly MemberExplanation[];
}

export interface HourForecast {
  readonly hour: number;
  readonly ts_utc: string;
  readonly ts_ept: string;
  readonly value: number;
  /** From the model's calibration (per-hour conformal residual quantiles), when its sidecar has one. */
  readonly quantiles?: readonly { readonly level: number; readonly value: number }[];
  readonly note?: string;
  readonly explanation?: Explanation;
}

/** 422s for a model that cannot answer this market or node. */
export function checkServes(served: ServedModel, market: Market, nodeId: number): void {
  if (served.sidecar.market !== market) {
    throw new HttpError(
      422,
      'market_not_served',
      `The serving model (pjm/model materialization ${served.materializationId}) forecasts ${served.sidecar.market} prices, not ${market}. Train a ${market} model or ask for market "${served.sidecar.market}".`,
      { market, modelMarket: served.sidecar.market },
    );
  }
  if (served.model.transform.byNode[String(nodeId)] === undefined) {
    throw new HttpError(
      422,
      'node_not_trained',
      `The serving model (pjm/model materialization ${served.materializationId}) was not trained on node ${nodeId}; retrain it with that node's history.`,
      { node: nodeId, trainedNodes: Object.keys(served.model.transform.byNode).map(Number) },
    );
  }
}

/** The rounds a member predicts with: exactly those `predictRows` uses (its saved `rounds`). */
const iterationRange = (member: TrainedMember): [number, number] => [0, member.rounds];

/** SHAP contributions of the rows `from` to `to` (exclusive; default every row) of `table`, for each ensemble member. */
export function explainRows(model: TrainedModel, table: FeatureTable, from = 0, to = table.rows): Explanation[] {
  const x = designMatrix(table, model.transform, from, to);
  const perMember = model.members.map((member) => ({ member, contribs: member.booster.predictContribs(x, { iterationRange: iterationRange(member) }) }));
  return Array.from({ length: to - from }, (_, i) => ({
    members: perMember.map(({ member, contribs }) => {
      const r = contribs.row(i);
      return { member: member.variant.name, target: member.variant.target, bias: r.bias, contributions: r.byFeature };
    }),
  }));
}

const hoursCache = new Lru<string, RealHour[]>(1000);

function realHours(day: string): RealHour[] {
  let hours = hoursCache.get(day);
  if (!hours) hoursCache.set(day, (hours = realHoursOfDay(day)));
  return hours;
}

/**
 * The day's forecasts, one per real hour, from its 24 grid-hour feature rows and, with LEAR
 * served, the node's rows of the days LEAR reads (`learRows`, see `learInputDays`): the served
 * family's values (assets/pjm/model/served.ts). Explanations are the XGBoost members'.
 */
export function forecastDay(served: ServedModel, table: FeatureTable, day: string, explain: boolean, learRows: FeatureTable | null = null): HourForecast[] {
  return forecastDayWith(served, table, day, explain, servedForecast(served, table, day, learRows).values);
}

/** The served family's forecast of the day's rows (XGBoost alone: its members' mean, as `predictRows`). */
export function servedForecast(served: ServedModel, table: FeatureTable, day: string, learRows: FeatureTable | null): NodeDayForecast {
  if (served.servable.lear === null) {
    const values = predictRows(served.model, table, 0, table.rows);
    return { values, xgboost: values, lear: null };
  }
  return forecastNodeDay(served.servable, table, table.nodeId[0]!, day, learRows);
}

/** The day's forecasts from the served values of its rows (`servedForecast`). */
export function forecastDayWith(served: ServedModel, table: FeatureTable, day: string, explain: boolean, values: Float64Array): HourForecast[] {
  const explanations = explain ? explainRows(served.model, table) : undefined;
  const rowOfHour = new Map<number, number>();
  for (let i = 0; i < table.rows; i++) rowOfHour.set(table.hour[i]!, i);
  const hours = realHours(day);
  const repeated = hours.length === 25;
  const calibration = served.sidecar.calibration;
  return hours.map((h) => {
    const row = rowOfHour.get(h.gridHour);
    if (row === undefined) throw new Error(`forecastDay: no feature row for grid hour ${h.gridHour} of ${day}.`);
    return {
      hour: h.gridHour,
      ts_utc: h.tsUtc,
      ts_ept: h.tsEpt,
      value: values[row]!,
      ...(calibration ? { quantiles: quantilesAt(calibration, h.gridHour, values[row]!).map((value, k) => ({ level: calibration.levels[k]!, value })) } : {}),
      ...(repeated && h.gridHour === 1 ? { note: 'Fall-back day: both 01:00 hours carry the grid-hour-1 forecast.' } : {}),
      ...(explanations ? { explanation: explanations[row]! } : {}),
    };
  });
}
