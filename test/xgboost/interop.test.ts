// Python interoperability, both directions, against the committed fixture made by
// Debian's python3-xgboost 1.7.4 (test/fixtures/xgboost/SOURCE.md).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { Booster, DMatrix, train } from '../../lib/xgboost/index.ts';
import { maxAbsDiff } from './synthetic.ts';

const dir = new URL('../fixtures/xgboost/', import.meta.url).pathname;
const read = (name: string) => JSON.parse(readFileSync(dir + name, 'utf8'));
const data = read('data.json') as { featureNames: string[]; rows: number; cols: number; trainRows: number; data: Array<number | null>; labels: number[] };
const expected = read('python-expected.json');
const x = Float32Array.from(data.data, (v) => v ?? NaN);

for (const format of ['json', 'ubj'] as const) {
  test(`a model saved by Python xgboost (${format}) predicts here what it predicted in Python`, () => {
    const booster = Booster.load(`${dir}python-model.${format}`);
    assert.equal(booster.featureNames, data.featureNames);
    assert.is(booster.bestIteration, expected.bestIteration);
    assert.is(booster.numBoostedRounds, expected.numBoostedRounds);
    assert.ok(maxAbsDiff(booster.predict(x), expected.predictAll) < 1e-5);
    assert.ok(maxAbsDiff(booster.predict(x, { iterationRange: 'best' }), expected.predictBest) < 1e-5);
    const matrix = DMatrix.fromDense(x, { rows: data.rows, cols: data.cols, featureNames: data.featureNames });
    assert.ok(maxAbsDiff(booster.predict(matrix, { iterationRange: 'best' }), expected.predictBest) < 1e-5);
    matrix.dispose();
    booster.dispose();
  });
}

test('SHAP contributions and feature importance match Python', () => {
  const booster = Booster.load(`${dir}python-model.json`);
  const contribs = booster.predictContribs(x.subarray(0, 5 * data.cols), { iterationRange: 'best' });
  assert.is(contribs.rows, 5);
  assert.ok(maxAbsDiff(contribs.values, (expected.contribsBestFirst5 as number[][]).flat()) < 1e-5);
  const first = contribs.row(0);
  assert.ok(Math.abs(first.byFeature['lmp_lag_24h']! - expected.contribsBestFirst5[0][0]) < 1e-5);
  for (const type of ['gain', 'weight', 'cover'] as const) {
    const ours = booster.featureImportance(type);
    const theirs = expected.importance[type] as Record<string, number>;
    assert.equal(Object.keys(ours).sort(), Object.keys(theirs).sort(), type);
    for (const [name, value] of Object.entries(theirs)) assert.ok(Math.abs(ours[name]! - value) <= 1e-5 * Math.max(1, Math.abs(value)), `${type} ${name}`);
  }
  booster.dispose();
});

test('a model saved here (json and ubj) was read by Python xgboost, which predicted the same values', () => {
  const pythonOnOurs = read('python-on-js-model.json');
  for (const format of ['json', 'ubj'] as const) {
    const booster = Booster.load(`${dir}js-model.${format}`);
    assert.equal(pythonOnOurs[format].featureNames, data.featureNames);
    assert.is(pythonOnOurs[format].bestIteration, booster.bestIteration);
    assert.ok(maxAbsDiff(booster.predict(x), pythonOnOurs[format].predictAll) < 1e-5, format);
    booster.dispose();
  }
});

test("training here with Python's parameters reproduces Python's evaluation log and best iteration", async () => {
  const { cols, trainRows, featureNames } = data;
  const dtrain = DMatrix.fromDense(x.subarray(0, trainRows * cols), { rows: trainRows, cols, labels: data.labels.slice(0, trainRows), featureNames });
  const dvalid = DMatrix.fromDense(x.subarray(trainRows * cols), { rows: data.rows - trainRows, cols, labels: data.labels.slice(trainRows), featureNames });
  const result = await train(expected.params, dtrain, {
    numBoostRound: 60,
    evals: [
      { name: 'train', data: dtrain },
      { name: 'valid', data: dvalid },
    ],
    earlyStoppingRounds: 5,
  });
  assert.is(result.bestIteration, expected.bestIteration);
  assert.ok(
    maxAbsDiff(
      result.evalLog.map((r) => r.scores['valid']!['rmse']!),
      expected.validRmse,
    ) < 1e-5,
  );
  assert.ok(maxAbsDiff(result.booster.predict(x), expected.predictAll) < 1e-5);
  result.booster.dispose();
  dtrain.dispose();
  dvalid.dispose();
});

test.run();
