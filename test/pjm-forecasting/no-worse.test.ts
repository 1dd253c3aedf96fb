// pjm/model's blocking check no_worse_than_current, as a verdict on two backtest MAEs: it
// refuses a candidate worse than the current model by more than the margin (naming both
// figures and what to do), lets the rest through, and says so whenever it is overridden
// (PJM_MODEL_MAX_WORSE=off, `materialize --force`) or cannot compare.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { noWorseVerdict, type NoWorseInput } from '../../assets/pjm/model/no-worse.ts';

const PERIOD = '2016-12-27..2018-12-24';
const base: NoWorseInput = { candidateMae: 3.0, currentMae: 3.0, maxWorse: 0.02, candidatePeriod: PERIOD, currentPeriod: PERIOD };

test('a candidate worse by more than the margin is refused, with both figures, the change and what to do', () => {
  const v = noWorseVerdict({ ...base, candidateMae: 3.1 });
  assert.is(v.passed, false);
  assert.match(
    v.message,
    /^Candidate backtest MAE 3\.100 is 3\.33 % worse than the current model's 3\.000 on 2016-12-27\.\.2018-12-24 \(allowed \+2\.0 %\): not published; the current model stays served\./,
  );
  assert.match(v.message, /materialize pjm\/model --force/);
  assert.match(v.message, /PJM_MODEL_MAX_WORSE=off/);
});

test('at the margin and below it the candidate passes; better is reported as a negative change', () => {
  // 3.06 is exactly +2 %: allowed (the limit is inclusive).
  assert.is(noWorseVerdict({ ...base, candidateMae: 3.06 }).passed, true);
  assert.is(noWorseVerdict({ ...base, candidateMae: 3.0601 }).passed, false);
  const better = noWorseVerdict({ ...base, candidateMae: 2.9 });
  assert.is(better.passed, true);
  assert.match(better.message, /Candidate backtest MAE 2\.900 vs current 3\.000 \(-3\.33 %; allowed up to \+2\.0 %\)/);
  // A margin of 0: any increase is refused.
  assert.is(noWorseVerdict({ ...base, maxWorse: 0, candidateMae: 3.0001 }).passed, false);
});

test('overrides say so: --force publishes a worse candidate naming both figures; PJM_MODEL_MAX_WORSE=off skips the comparison', () => {
  const forced = noWorseVerdict({ ...base, candidateMae: 3.3, forced: true });
  assert.is(forced.passed, true);
  assert.match(
    forced.message,
    /^Forced \(materialize --force\): candidate backtest MAE 3\.300 is 10\.00 % worse than the current model's 3\.000 on 2016-12-27\.\.2018-12-24 \(allowed \+2\.0 %\), published anyway\.$/,
  );
  // Forcing a candidate that passes anyway says nothing about forcing.
  assert.not.match(noWorseVerdict({ ...base, candidateMae: 2.9, forced: true }).message, /Forced/);
  const off = noWorseVerdict({ ...base, candidateMae: 9, maxWorse: null });
  assert.is(off.passed, true);
  assert.match(off.message, /^Check off \(PJM_MODEL_MAX_WORSE=off\): candidate backtest MAE 9\.000 published without comparison\.$/);
});

test('nothing to compare with: the first model, and a current model backtested on another period, pass and say why', () => {
  const first = noWorseVerdict({ ...base, candidateMae: 5, currentMae: null, currentPeriod: null });
  assert.is(first.passed, true);
  assert.match(first.message, /No current model to compare with: candidate backtest MAE 5\.000/);
  const other = noWorseVerdict({ ...base, candidateMae: 5, currentPeriod: '2016-12-27..2017-06-30' });
  assert.is(other.passed, true);
  assert.match(
    other.message,
    /backtested on 2016-12-27\.\.2017-06-30, the candidate on 2016-12-27\.\.2018-12-24: not comparable, so not blocked \(candidate MAE 5\.000, current 3\.000\)/,
  );
});

test.run();
