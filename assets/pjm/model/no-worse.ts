// The verdict of pjm/model's blocking check no_worse_than_current: a candidate whose backtest
// MAE is worse than the current model's by more than a relative margin is not published, so a
// model never gets worse silently. Two overrides, each named in the message (so in the run
// output): PJM_MODEL_MAX_WORSE=off, and a run started with `materialize --force`. Pure: both
// figures come from the materializations' metadata.

export interface NoWorseInput {
  /** The candidate's backtest MAE. */
  readonly candidateMae: number;
  /** The current model's, on its own backtest; null when there is no current model (or it predates recorded figures). */
  readonly currentMae: number | null;
  /** Relative margin (0.02 = 2 %); null = the check is off (PJM_MODEL_MAX_WORSE=off). */
  readonly maxWorse: number | null;
  /** The test periods, to say when the two figures are not comparable. */
  readonly candidatePeriod: string;
  readonly currentPeriod: string | null;
  /** The run was started with --force: a worse candidate is published, and the message says so. */
  readonly forced?: boolean;
}

export interface NoWorseVerdict {
  readonly passed: boolean;
  readonly message: string;
}

export function noWorseVerdict(i: NoWorseInput): NoWorseVerdict {
  const fmt = (v: number) => v.toFixed(3);
  if (i.maxWorse === null)
    return { passed: true, message: `Check off (PJM_MODEL_MAX_WORSE=off): candidate backtest MAE ${fmt(i.candidateMae)} published without comparison.` };
  if (i.currentMae === null) return { passed: true, message: `No current model to compare with: candidate backtest MAE ${fmt(i.candidateMae)}.` };
  if (i.currentPeriod !== null && i.currentPeriod !== i.candidatePeriod) {
    return {
      passed: true,
      message: `The current model was backtested on ${i.currentPeriod}, the candidate on ${i.candidatePeriod}: not comparable, so not blocked (candidate MAE ${fmt(i.candidateMae)}, current ${fmt(i.currentMae)}).`,
    };
  }
  const limit = i.currentMae * (1 + i.maxWorse);
  const change = `${(((i.candidateMae - i.currentMae) / i.currentMae) * 100).toFixed(2)} %`;
  if (i.candidateMae <= limit)
    return {
      passed: true,
      message: `Candidate backtest MAE ${fmt(i.candidateMae)} vs current ${fmt(i.currentMae)} (${change}; allowed up to +${(i.maxWorse * 100).toFixed(1)} %).`,
    };
  if (i.forced) {
    return {
      passed: true,
      message: `Forced (materialize --force): candidate backtest MAE ${fmt(i.candidateMae)} is ${change} worse than the current model's ${fmt(i.currentMae)} on ${i.candidatePeriod} (allowed +${(i.maxWorse * 100).toFixed(1)} %), published anyway.`,
    };
  }
  return {
    passed: false,
    message:
      `Candidate backtest MAE ${fmt(i.candidateMae)} is ${change} worse than the current model's ${fmt(i.currentMae)} on ${i.candidatePeriod} (allowed +${(i.maxWorse * 100).toFixed(1)} %): not published; the current model stays served. ` +
      'Find what changed (settings, PJM_MODEL_FAMILIES, PJM_LEAR_WINDOWS, the data), or accept it: `materialize pjm/model --force`, or PJM_MODEL_MAX_WORSE=off (or a larger margin) and materialize pjm/model again.',
  };
}
