// Training further (the walk-forward's daily warm starts, assets/pjm/backtest/warm-start.ts):
// continuing a booster in place equals training longer from scratch, a matrix's zero-weight
// rows are as if left out, refreshing leaves on the training data gives the model back, and a
// booster being trained cannot be used meanwhile.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { continueTraining, DMatrix, train } from '../../lib/xgboost/index.ts';
import { maxAbsDiff, synthetic, toDMatrix } from './synthetic.ts';

// No row or column sampling: a run is then a function of the data and the rounds alone.
const PARAMS = { tree_method: 'hist', max_depth: 4, eta: 0.3, max_bin: 64, seed: 3, nthread: 1 };

test('20 rounds continued 20 more in place predict exactly as 40 rounds from scratch', async () => {
  const s = synthetic(600, 6, 1);
  const d = toDMatrix(s);
  const x = synthetic(50, 6, 2).x;
  const whole = await train(PARAMS, d, { numBoostRound: 40 });
  const half = await train(PARAMS, d, { numBoostRound: 20 });
  try {
    const before = half.booster.predict(x);
    const out = await continueTraining(half.booster, PARAMS, d, { rounds: 20 });
    assert.is(out.rounds, 40);
    assert.is(half.booster.numBoostedRounds, 40);
    assert.is(maxAbsDiff(half.booster.predict(x), whole.booster.predict(x)), 0);
    assert.ok(maxAbsDiff(before, half.booster.predict(x)) > 0, 'the continued rounds changed the model');
  } finally {
    whole.booster.dispose();
    half.booster.dispose();
    d.dispose();
  }
});

test('a matrix whose extra rows weigh 0 trains the model of the rows without them (XGBoost skips them when sketching)', async () => {
  const s = synthetic(500, 5, 4);
  // 300 more rows, far outside the first rows' ranges and with other labels: visible in the bins and the leaves if they counted.
  const extra = synthetic(300, 5, 5);
  const x = new Float32Array([...s.x, ...extra.x.map((v) => v * 50 + 100)]);
  const y = new Float32Array([...s.y, ...extra.y.map((v) => v * 10 - 40)]);
  const weights = new Float32Array(800).fill(0);
  weights.fill(1, 0, 500);
  const alone = toDMatrix(s);
  const padded = DMatrix.fromDense(x, { rows: 800, cols: 5, labels: y, weights, featureNames: s.featureNames });
  const a = await train(PARAMS, alone, { numBoostRound: 30 });
  const b = await train(PARAMS, padded, { numBoostRound: 30 });
  try {
    const probe = synthetic(100, 5, 6).x;
    assert.ok(
      maxAbsDiff(a.booster.predict(probe), b.booster.predict(probe)) < 1e-6,
      `max diff ${maxAbsDiff(a.booster.predict(probe), b.booster.predict(probe))}`,
    );
    assert.equal(Array.from(padded.weights()), Array.from(weights));
  } finally {
    a.booster.dispose();
    b.booster.dispose();
    alone.dispose();
    padded.dispose();
  }
});

test('weighting in more rows of a matrix and continuing learns them: the window of a matrix moves by its weights', async () => {
  // The first 400 rows follow y = 3·x0 − 2·x1; the last 200 its negative. A model of the first
  // rows, continued with the last ones weighted in, must move towards them.
  const s = synthetic(600, 4, 7);
  const y = Float32Array.from(s.y, (v, i) => (i < 400 ? v : -v));
  const weights = new Float32Array(600).fill(0);
  weights.fill(1, 0, 400);
  const d = DMatrix.fromDense(s.x, { rows: 600, cols: 4, labels: y, weights });
  const { booster } = await train(PARAMS, d, { numBoostRound: 20 });
  try {
    const late = s.x.slice(400 * 4);
    const lateY = y.slice(400);
    const mae = (p: Float32Array) => p.reduce((acc, v, i) => acc + Math.abs(v - lateY[i]!), 0) / p.length;
    const before = mae(booster.predict(late));
    d.setWeights(new Float32Array(600).fill(1));
    await continueTraining(booster, PARAMS, d, { rounds: 20 });
    const after = mae(booster.predict(late));
    assert.ok(after < before / 2, `MAE on the weighted-in rows ${before.toFixed(3)} → ${after.toFixed(3)}`);
  } finally {
    booster.dispose();
    d.dispose();
  }
});

test('refreshing the leaves of a copy on its own training data gives the model back; on other data it keeps the trees and moves the leaves', async () => {
  const s = synthetic(500, 5, 8);
  const d = toDMatrix(s);
  const { booster } = await train(PARAMS, d, { numBoostRound: 25 });
  const refresh = { ...PARAMS, process_type: 'update', updater: 'refresh', refresh_leaf: 1 };
  const probe = synthetic(80, 5, 9).x;
  const same = booster.slice(0, 25);
  const other = booster.slice(0, 25);
  const shifted = DMatrix.fromDense(s.x, { rows: s.rows, cols: s.cols, labels: s.y.map((v) => v + 1) });
  try {
    await continueTraining(same, refresh, d, { rounds: 25 });
    assert.is(same.numBoostedRounds, 25);
    assert.ok(maxAbsDiff(same.predict(probe), booster.predict(probe)) < 1e-5, `max diff ${maxAbsDiff(same.predict(probe), booster.predict(probe))}`);
    await continueTraining(other, refresh, shifted, { rounds: 25 });
    assert.is(other.numBoostedRounds, 25);
    // Labels one higher: the refreshed leaves add about one to every prediction.
    const up = other.predict(probe).map((v, i) => v - booster.predict(probe)[i]!);
    const mean = up.reduce((a, v) => a + v, 0) / up.length;
    assert.ok(Math.abs(mean - 1) < 0.1, `mean shift ${mean}`);
  } finally {
    for (const b of [booster, same, other]) b.dispose();
    d.dispose();
    shifted.dispose();
  }
});

test('a booster being trained further cannot be used or disposed until the training ends', async () => {
  const d = toDMatrix(synthetic(300, 4, 10));
  const { booster } = await train(PARAMS, d, { numBoostRound: 5 });
  try {
    const running = continueTraining(booster, PARAMS, d, { rounds: 5 });
    assert.throws(() => booster.predict(synthetic(2, 4, 11).x), /continueTraining/);
    assert.throws(() => booster.dispose(), /continueTraining/);
    assert.throws(() => booster.slice(0, 1), /continueTraining/);
    await running;
    assert.is(booster.numBoostedRounds, 10);
    assert.throws(() => booster.slice(0, 11), /within the model's 10 rounds/);
    const cut = booster.slice(0, 4);
    const probe = synthetic(20, 4, 12).x;
    assert.is(maxAbsDiff(cut.predict(probe), booster.predict(probe, { iterationRange: [0, 4] })), 0);
    cut.dispose();
  } finally {
    booster.dispose();
    d.dispose();
  }
});

test.run();
