// How the product's model combines its families: XGBoost members (train.ts) and LEAR members
// over calibration windows (assets/pjm/lear). A plain weighted mean of the families' price
// forecasts, 0.5/0.5 by default (weights could only be chosen on days before the test period;
// none are yet). Where a family has no forecast for an hour (LEAR needs D-1..D-7 complete),
// the mean is over the families that have one, and the hour is counted.

import type { FamilyChoice } from '../config.ts';

/** A model family. */
export type ModelFamily = 'xgboost' | 'lear';

export function familiesOf(choice: FamilyChoice): ModelFamily[] {
  return choice === 'ensemble' ? ['xgboost', 'lear'] : [choice];
}

/** Equal weights over the chosen families (the plain mean). */
export function equalWeights(families: readonly ModelFamily[]): Record<ModelFamily, number> {
  const w = { xgboost: 0, lear: 0 };
  for (const f of families) w[f] = 1 / families.length;
  return w;
}

export interface FamilyForecast {
  readonly family: ModelFamily;
  readonly weight: number;
  /** One value per hour (NaN where the family has no forecast). */
  readonly values: ArrayLike<number>;
}

/**
 * The weighted mean per hour over the families with a finite forecast there (weights
 * renormalized); `fallbackHours` counts hours some family lacked. An hour no family forecasts
 * stays NaN.
 */
export function combineFamilies(members: readonly FamilyForecast[]): { values: Float64Array; fallbackHours: number } {
  if (members.length === 0) throw new Error('combineFamilies: no family forecasts given.');
  const n = members[0]!.values.length;
  members.forEach((m) => {
    if (m.values.length !== n)
      throw new Error(
        `combineFamilies: the ${m.family} forecast has ${m.values.length} hours, the ${members[0]!.family} one ${n}; give both for the same hours.`,
      );
    if (!(m.weight >= 0)) throw new Error(`combineFamilies: the ${m.family} weight ${m.weight} must be 0 or more.`);
  });
  const values = new Float64Array(n);
  let fallbackHours = 0;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let weight = 0;
    for (const m of members) {
      const v = m.values[i]!;
      if (m.weight > 0 && Number.isFinite(v)) {
        sum += m.weight * v;
        weight += m.weight;
      }
    }
    if (members.some((m) => m.weight > 0 && !Number.isFinite(m.values[i]!))) fallbackHours++;
    values[i] = weight > 0 ? sum / weight : Number.NaN;
  }
  return { values, fallbackHours };
}

/**
 * The served forecast of each hour from the families' forecasts (NaN where LEAR has none), as
 * the backtest scores it and the model serves it: XGBoost alone; LEAR, or XGBoost where LEAR
 * has no forecast; or the ensemble's plain mean (`combineFamilies`, XGBoost alone where LEAR has
 * none). `fallbackHours` counts the hours LEAR lacked.
 */
export function servedValues(choice: FamilyChoice, xgboost: ArrayLike<number>, lear: ArrayLike<number>): { values: Float64Array; fallbackHours: number } {
  if (choice === 'xgboost') return { values: Float64Array.from(xgboost), fallbackHours: 0 };
  if (choice === 'lear') {
    let fallbackHours = 0;
    const values = Float64Array.from(lear, (v, i) => {
      if (Number.isFinite(v)) return v;
      fallbackHours++;
      return xgboost[i]!;
    });
    return { values, fallbackHours };
  }
  const w = equalWeights(['xgboost', 'lear']);
  return combineFamilies([
    { family: 'xgboost', weight: w.xgboost, values: xgboost },
    { family: 'lear', weight: w.lear, values: lear },
  ]);
}
