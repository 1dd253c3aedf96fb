// The pure parts of training: parameter flattening, reading XGBoost's evaluation line,
// and the early-stopping rule (Python xgboost 1.7's), with no native library involved.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { XGBoostUsageError, cleanXGBoostMessage } from '../../lib/xgboost/errors.ts';
import { earlyStoppingStep, metricIsMaximized, paramPairs, parseEvalLine, type EarlyStoppingState } from '../../lib/xgboost/training-logic.ts';

test('parameters become XGBoost string pairs; arrays repeat the name', () => {
  assert.equal(paramPairs({ max_depth: 6, eta: 0.05, tree_method: 'hist', verbosity: 0, validate_parameters: true, eval_metric: ['mae', 'rmse'] }), [
    ['max_depth', '6'],
    ['eta', '0.05'],
    ['tree_method', 'hist'],
    ['verbosity', '0'],
    ['validate_parameters', '1'],
    ['eval_metric', 'mae'],
    ['eval_metric', 'rmse'],
  ]);
  assert.throws(
    () => paramPairs({ eta: Infinity }),
    (e: unknown) => e instanceof XGBoostUsageError && /"eta" is Infinity/.test(e.message),
  );
  assert.throws(() => paramPairs({ seed: null as unknown as number }), /"seed" has a null value/);
});

test('the evaluation line is read by set name, even when metrics contain - or @', () => {
  const line = '[12]\ttrain-rmse:0.51\tvalid-late-rmse:0.75\tvalid-late-poisson-nloglik:1.25\tvalid-error@0.7:0.125';
  assert.equal(parseEvalLine(line, ['train', 'valid', 'valid-late']), {
    iteration: 12,
    scores: { train: { rmse: 0.51 }, 'valid-late': { rmse: 0.75, 'poisson-nloglik': 1.25 }, valid: { 'error@0.7': 0.125 } },
  });
  assert.throws(() => parseEvalLine('[x]\ttrain-rmse:1', ['train']), /Unexpected XGBoost evaluation line/);
  assert.throws(() => parseEvalLine('[1]\ttest-rmse:1', ['train']), /Unexpected XGBoost evaluation field/);
});

test('early stopping keeps the first strictly best round and stops after `rounds` without improvement', () => {
  const scores = [5, 4, 4, 3.5, 3.6, 3.5, 3.7];
  let state: EarlyStoppingState | undefined;
  const stops: boolean[] = [];
  scores.forEach((score, i) => {
    state = earlyStoppingStep(state, i, score, { rounds: 3, maximize: false });
    stops.push(state.stop);
  });
  assert.equal(stops, [false, false, false, false, false, false, true]);
  assert.is(state!.bestIteration, 3); // the tie at round 5 does not count as an improvement
  assert.is(state!.bestScore, 3.5);
  const up = earlyStoppingStep(earlyStoppingStep(undefined, 0, 0.7, { rounds: 1, maximize: true }), 1, 0.8, { rounds: 1, maximize: true });
  assert.is(up.bestIteration, 1);
});

test('which metrics are maximised', () => {
  for (const m of ['auc', 'aucpr', 'map', 'ndcg', 'ndcg@5', 'map@3-', 'pre@2']) assert.ok(metricIsMaximized(m), m);
  for (const m of ['rmse', 'mae', 'logloss', 'error', 'mape', 'poisson-nloglik']) assert.not.ok(metricIsMaximized(m), m);
});

test('XGBoost messages lose their timestamp, build path and native stack trace', () => {
  const raw =
    "[06:41:40] /mnt/build/xgboost-1.7.5/src/learner.cc:81: Invalid Parameter format for max_depth expect int but value='abc'\nStack trace:\n  [bt] (0) libxgboost.so(+0x1)";
  assert.is(cleanXGBoostMessage(raw), "Invalid Parameter format for max_depth expect int but value='abc'");
});

test.run();
