// Booster: saving and loading (files and buffers, JSON and UBJ), prediction paths,
// explanations, and several boosters alive at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Booster, DMatrix, train, type TrainResult } from '../../lib/xgboost/index.ts';
import { maxAbsDiff, synthetic, toDMatrix } from './synthetic.ts';

const data = synthetic(400, 5, 21);
const valid = synthetic(100, 5, 22, { noise: 2 });
const dir = mkdtempSync(join(tmpdir(), 'xgboost-test-'));
let trained: TrainResult;

test.before(async () => {
  const dtrain = toDMatrix(data);
  const dvalid = toDMatrix(valid);
  trained = await train({ max_depth: 4, eta: 0.3, seed: 3, nthread: 1 }, dtrain, {
    numBoostRound: 80,
    evals: [{ name: 'valid', data: dvalid }],
    earlyStoppingRounds: 4,
  });
  dtrain.dispose();
  dvalid.dispose();
});

test.after(() => {
  trained.booster.dispose();
  rmSync(dir, { recursive: true, force: true });
});

for (const format of ['json', 'ubj'] as const) {
  test(`save/load round trip through a .${format} file and a ${format} buffer`, () => {
    const original = trained.booster;
    const path = join(dir, `model.${format}`);
    original.saveModel(path);
    const fromFile = Booster.load(path);
    const fromBuffer = Booster.fromBuffer(original.toBuffer(format));
    for (const copy of [fromFile, fromBuffer]) {
      assert.is(maxAbsDiff(copy.predict(data.x), original.predict(data.x)), 0);
      assert.is(maxAbsDiff(copy.predict(data.x, { iterationRange: 'best' }), original.predict(data.x, { iterationRange: 'best' })), 0);
      assert.is(copy.bestIteration, trained.bestIteration);
      assert.equal(copy.featureNames, data.featureNames);
      assert.is(copy.numBoostedRounds, trained.rounds);
      copy.dispose();
    }
  });
}

test('predicting from a Float32Array equals predicting from a DMatrix, for 1 row and for many', () => {
  const booster = trained.booster;
  const matrix = DMatrix.fromDense(data.x, { rows: data.rows, cols: data.cols });
  const fromMatrix = booster.predict(matrix);
  assert.is(maxAbsDiff(booster.predict(data.x), fromMatrix), 0);
  assert.is(booster.predict(data.x.subarray(0, 5))[0], fromMatrix[0]);
  // Explicit thread counts give the same numbers.
  assert.is(maxAbsDiff(booster.predict(data.x, { nthread: 2 }), fromMatrix), 0);
  matrix.dispose();
});

test('SHAP contributions add up to the margin and are named by feature', () => {
  const booster = trained.booster;
  const rows = data.x.subarray(0, 3 * data.cols);
  const contribs = booster.predictContribs(rows, { iterationRange: 'best' });
  const margin = booster.predict(rows, { iterationRange: 'best', outputMargin: true });
  for (let r = 0; r < 3; r++) {
    const { bias, byFeature } = contribs.row(r);
    assert.equal(Object.keys(byFeature), data.featureNames);
    const total = bias + Object.values(byFeature).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - margin[r]!) < 1e-4, `row ${r}: ${total} vs ${margin[r]}`);
  }
  // y depends on f_0 and f_1 only: they carry the largest contributions.
  const top = Object.entries(contribs.row(0).byFeature)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, 2)
    .map(([n]) => n);
  assert.equal(top.sort(), ['f_0', 'f_1']);
});

test('feature importance is keyed by feature name and ranks the informative features first', () => {
  for (const type of ['gain', 'weight', 'cover', 'total_gain', 'total_cover'] as const) {
    const importance = trained.booster.featureImportance(type);
    assert.ok(
      Object.keys(importance).every((name) => data.featureNames.includes(name)),
      type,
    );
  }
  const gain = trained.booster.featureImportance('gain');
  const ranked = Object.entries(gain)
    .sort((a, b) => b[1] - a[1])
    .map(([n]) => n);
  assert.equal(ranked.slice(0, 2).sort(), ['f_0', 'f_1']);
});

test('two boosters alive at once give independent results', async () => {
  const other = synthetic(400, 5, 23);
  const flipped = Float32Array.from(other.y, (v) => -v);
  const d = DMatrix.fromDense(other.x, { rows: other.rows, cols: other.cols, labels: flipped });
  const [a, b] = await Promise.all([
    train({ max_depth: 3, nthread: 1, seed: 1 }, d, { numBoostRound: 30 }),
    train({ max_depth: 5, nthread: 1, seed: 1 }, toDMatrix(other), { numBoostRound: 30 }),
  ]);
  const row = other.x.subarray(0, 5);
  const pa = a.booster.predict(row)[0]!;
  const pb = b.booster.predict(row)[0]!;
  assert.ok(Math.sign(pa) === -Math.sign(pb), `${pa} vs ${pb}`);
  a.booster.dispose();
  // b is untouched by a's disposal.
  assert.is(b.booster.predict(row)[0], pb);
  assert.is(trained.booster.disposed, false);
  b.booster.dispose();
  d.dispose();
});

test('labels and attributes can be read back', () => {
  const d = toDMatrix(data);
  assert.is(maxAbsDiff(d.labels(), data.y), 0);
  d.dispose();
  const copy = Booster.fromBuffer(trained.booster.toBuffer());
  copy.setAttribute('trained_on', 'pjm-2024');
  assert.is(Booster.fromBuffer(copy.toBuffer('ubj')).getAttribute('trained_on'), 'pjm-2024');
  copy.setAttribute('trained_on', undefined);
  assert.is(copy.getAttribute('trained_on'), undefined);
  copy.dispose();
});

test.run();
