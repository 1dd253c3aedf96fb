// Training: early stopping, the evaluation log, seeds, missing values, negative labels,
// and that the event loop keeps running while a model trains.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Koa from 'koa';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { DMatrix, train } from '../../lib/xgboost/index.ts';
import { maxAbsDiff, synthetic, toDMatrix } from './synthetic.ts';

test('early stopping stops and reports the best iteration of the watched set', async () => {
  const dtrain = toDMatrix(synthetic(400, 5, 1));
  // A validation set of pure noise: boosting can only overfit it, so it must stop early.
  const dvalid = toDMatrix(synthetic(200, 5, 2, { signal: 0, noise: 1 }));
  const result = await train({ tree_method: 'hist', max_depth: 6, eta: 0.5, seed: 1, nthread: 1 }, dtrain, {
    numBoostRound: 200,
    evals: [
      { name: 'train', data: dtrain },
      { name: 'valid', data: dvalid },
    ],
    earlyStoppingRounds: 5,
  });
  assert.ok(result.stoppedEarly);
  assert.ok(result.rounds < 200);
  assert.is(result.rounds, result.bestIteration! + 6);
  assert.is(result.evalLog.length, result.rounds);
  const valid = result.evalLog.map((r) => r.scores['valid']!['rmse']!);
  assert.is(Math.min(...valid), valid[result.bestIteration!]);
  assert.ok(Math.abs(result.bestScore! - valid[result.bestIteration!]!) < 1e-12);
  assert.is(result.booster.bestIteration, result.bestIteration);
  assert.is(result.booster.numBoostedRounds, result.rounds);
  // 'best' predicts with rounds 0..bestIteration only, i.e. not the same as all rounds.
  const x = synthetic(3, 5, 9).x;
  assert.ok(
    maxAbsDiff(result.booster.predict(x, { iterationRange: 'best' }), result.booster.predict(x, { iterationRange: [0, result.bestIteration! + 1] })) === 0,
  );
  assert.ok(maxAbsDiff(result.booster.predict(x, { iterationRange: 'best' }), result.booster.predict(x)) > 0);
  result.booster.dispose();
  dtrain.dispose();
  dvalid.dispose();
});

test('the evaluation log has every metric of every set, and a maximised metric stops on its maximum', async () => {
  const s = synthetic(300, 4, 3);
  const labels = Float32Array.from(s.y, (v) => (v > 0 ? 1 : 0));
  const dtrain = DMatrix.fromDense(s.x, { rows: s.rows, cols: s.cols, labels });
  const noise = synthetic(200, 4, 4);
  const dvalid = DMatrix.fromDense(noise.x, { rows: 200, cols: 4, labels: Float32Array.from(noise.y, (_, i) => i % 2) });
  const rounds: number[] = [];
  const result = await train({ objective: 'binary:logistic', eval_metric: ['logloss', 'auc'], max_depth: 3, seed: 5, nthread: 1 }, dtrain, {
    numBoostRound: 100,
    evals: [
      { name: 'train', data: dtrain },
      { name: 'valid', data: dvalid },
    ],
    earlyStoppingRounds: 3,
    onRound: (r) => rounds.push(r.iteration),
  });
  assert.equal(Object.keys(result.evalLog[0]!.scores['valid']!), ['logloss', 'auc']);
  assert.equal(
    rounds,
    result.evalLog.map((r) => r.iteration),
  );
  const auc = result.evalLog.map((r) => r.scores['valid']!['auc']!);
  assert.is(auc[result.bestIteration!], Math.max(...auc.slice(0, result.bestIteration! + 1)));
  result.booster.dispose();
  dtrain.dispose();
  dvalid.dispose();
});

test('the same seed gives the same model, another seed another model', async () => {
  const s = synthetic(500, 6, 5);
  const d = toDMatrix(s);
  const params = { tree_method: 'hist', subsample: 0.5, colsample_bytree: 0.5, max_depth: 4, nthread: 2 };
  const a = await train({ ...params, seed: 11 }, d, { numBoostRound: 20 });
  const b = await train({ ...params, seed: 11 }, d, { numBoostRound: 20 });
  const c = await train({ ...params, seed: 12 }, d, { numBoostRound: 20 });
  assert.is(maxAbsDiff(a.booster.predict(s.x), b.booster.predict(s.x)), 0);
  assert.ok(maxAbsDiff(a.booster.predict(s.x), c.booster.predict(s.x)) > 0);
  assert.ok(a.booster.toBuffer('json').equals(b.booster.toBuffer('json')));
  for (const r of [a, b, c]) r.booster.dispose();
  d.dispose();
});

test('a matrix whose labels were replaced trains the model a fresh matrix with those labels trains; setLabels checks its input and waits for a training', async () => {
  const s = synthetic(600, 6, 21);
  const other = Float32Array.from(s.y, (v, i) => v * 2 - s.x[i * s.cols]!);
  const params = { tree_method: 'hist', max_depth: 4, max_bin: 32, subsample: 0.8, seed: 3, nthread: 1 };
  const shared = toDMatrix(s);
  // The first training builds the hist index of `shared`; the second reuses it with the new labels.
  const first = await train(params, shared, { numBoostRound: 15 });
  shared.setLabels(other);
  assert.equal(Array.from(shared.labels()), Array.from(other));
  const reused = await train(params, shared, { numBoostRound: 15 });
  const fresh = DMatrix.fromDense(s.x, { rows: s.rows, cols: s.cols, labels: other, featureNames: s.featureNames });
  const alone = await train(params, fresh, { numBoostRound: 15 });
  assert.is(maxAbsDiff(reused.booster.predict(s.x), alone.booster.predict(s.x)), 0);
  assert.ok(reused.booster.toBuffer('json').equals(alone.booster.toBuffer('json')));
  assert.ok(maxAbsDiff(first.booster.predict(s.x), reused.booster.predict(s.x)) > 0, 'the new labels were learned');
  assert.throws(() => shared.setLabels(other.subarray(1)), /labels has 599 values but the matrix has 600 rows/);
  assert.throws(() => shared.setLabels(Float32Array.from(other, (v, i) => (i === 7 ? Number.NaN : v))), /labels\[7\] is NaN/);
  const running = train(params, shared, { numBoostRound: 5 });
  assert.throws(() => shared.setLabels(s.y), /being read by a running train/);
  (await running).booster.dispose();
  for (const r of [first, reused, alone]) r.booster.dispose();
  shared.dispose();
  fresh.dispose();
});

test('NaN is missing and -1 is an ordinary value (PJM prices can be -1 $/MWh)', async () => {
  const values = [-1, 1, NaN];
  const targets = [10, 5, 0];
  const n = 300;
  const x = Float32Array.from({ length: n }, (_, i) => values[i % 3]!);
  const y = Float32Array.from({ length: n }, (_, i) => targets[i % 3]!);
  const d = DMatrix.fromDense(x, { rows: n, cols: 1, labels: y });
  const { booster } = await train({ max_depth: 3, eta: 1, base_score: 0, nthread: 1 }, d, { numBoostRound: 5 });
  const [atMinusOne, atOne, atMissing] = booster.predict(new Float32Array([-1, 1, NaN]));
  // Were -1 read as missing, -1 and NaN rows would be one group and predict the same value.
  assert.ok(Math.abs(atMinusOne! - 10) < 1e-3, `-1 → ${atMinusOne}`);
  assert.ok(Math.abs(atOne! - 5) < 1e-3, `1 → ${atOne}`);
  assert.ok(Math.abs(atMissing! - 0) < 1e-3, `NaN → ${atMissing}`);
  booster.dispose();
  d.dispose();
});

test('negative labels are learned as they are', async () => {
  const s = synthetic(300, 3, 6);
  const y = Float32Array.from(s.y, (v) => v - 50);
  const d = DMatrix.fromDense(s.x, { rows: s.rows, cols: s.cols, labels: y });
  assert.ok(maxAbsDiff(d.labels(), y) === 0);
  const { booster } = await train({ max_depth: 4, eta: 0.3, nthread: 1 }, d, { numBoostRound: 60 });
  const predicted = booster.predict(s.x);
  assert.ok(maxAbsDiff(predicted, y) < 1.5);
  assert.ok(predicted.every((v) => v < -40));
  booster.dispose();
  d.dispose();
});

test('weights: rows of weight 0 do not pull the model', async () => {
  const n = 200;
  const x = Float32Array.from({ length: n }, (_, i) => i % 2);
  const y = Float32Array.from({ length: n }, (_, i) => (i % 4 === 1 ? 100 : 1)); // half of the x=1 rows are outliers
  const weights = Float32Array.from(y, (v) => (v === 100 ? 0 : 1));
  const weighted = DMatrix.fromDense(x, { rows: n, cols: 1, labels: y, weights });
  const plain = DMatrix.fromDense(x, { rows: n, cols: 1, labels: y });
  const a = await train({ max_depth: 1, eta: 1, base_score: 0, nthread: 1 }, weighted, { numBoostRound: 3 });
  const b = await train({ max_depth: 1, eta: 1, base_score: 0, nthread: 1 }, plain, { numBoostRound: 3 });
  assert.ok(Math.abs(a.booster.predict(new Float32Array([1]))[0]! - 1) < 1e-3);
  assert.ok(Math.abs(b.booster.predict(new Float32Array([1]))[0]! - 50.5) < 1e-3);
  for (const o of [a.booster, b.booster, weighted, plain]) o.dispose();
});

test('a Koa server in the same process answers requests while a model trains', async () => {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = app.listen(0);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const d = toDMatrix(synthetic(2000, 10, 9));
  const controller = new AbortController();
  let training = true;
  let answeredDuringTraining = 0;
  // Keep requesting; after 5 answers received while training runs, stop the training.
  // Were the loop blocked, no answer could arrive before training ended (100,000 rounds).
  const client = (async () => {
    while (training) {
      const response = await fetch(`http://127.0.0.1:${port}/predict`);
      await response.json();
      if (training) answeredDuringTraining += 1;
      if (answeredDuringTraining === 5) controller.abort(new Error('enough'));
    }
  })();
  await train({ max_depth: 4, nthread: 1 }, d, { numBoostRound: 100_000, signal: controller.signal }).then(
    (result) => result.booster.dispose(),
    (error: Error) => assert.is(error.message, 'enough'),
  );
  training = false;
  await client;
  server.close();
  assert.ok(answeredDuringTraining >= 5, `answers during training: ${answeredDuringTraining}`);
  d.dispose();
});

test('a timer keeps firing while a model trains', async () => {
  const d = toDMatrix(synthetic(5000, 20, 7));
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 1);
  // Ticks counted at each round's report: had training blocked the main thread, every
  // report would arrive after it and all would see the same count.
  const seen: number[] = [];
  const result = await train({ tree_method: 'hist', max_depth: 6, nthread: 1 }, d, {
    numBoostRound: 40,
    evals: [{ name: 'train', data: d }],
    onRound: () => seen.push(ticks),
  });
  clearInterval(timer);
  assert.is(seen.length, 40);
  assert.ok(new Set(seen).size > 3, `timer ticks seen at each round: ${seen.join(',')}`);
  result.booster.dispose();
  d.dispose();
});

test('an aborted training rejects and frees its booster', async () => {
  const d = toDMatrix(synthetic(3000, 10, 8));
  const controller = new AbortController();
  const pending = train({ max_depth: 6, nthread: 1 }, d, {
    numBoostRound: 100000,
    evals: [{ name: 'train', data: d }],
    onRound: (r) => r.iteration === 3 && controller.abort(new Error('stop, please')),
    signal: controller.signal,
  });
  await pending.then(
    () => assert.unreachable('training should have been aborted'),
    (error: Error) => assert.is(error.message, 'stop, please'),
  );
  d.dispose();
});

test.run();
