// Every bad input is a clear JS error (naming what was wrong), never a crash.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Booster, DMatrix, train, XGBoostError, XGBoostUsageError } from '../../lib/xgboost/index.ts';
import { synthetic, toDMatrix } from './synthetic.ts';

const data = synthetic(100, 3, 31);

function throwsWith(fn: () => unknown, type: new (...args: never[]) => Error, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, type);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, type);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

test('a data length that is not rows × cols', () => {
  throwsWith(() => DMatrix.fromDense(new Float32Array(10), { rows: 3, cols: 3 }), XGBoostUsageError, /10 values but rows × cols = 3 × 3 = 9/);
  throwsWith(() => DMatrix.fromDense(new Float32Array(10), { rows: 2.5, cols: 4 }), XGBoostUsageError, /not valid/);
  throwsWith(() => DMatrix.fromDense([1, 2] as unknown as Float32Array, { rows: 1, cols: 2 }), XGBoostUsageError, /Float32Array/);
});

test('labels, weights or feature names that do not match the rows and columns', () => {
  const x = new Float32Array(6);
  throwsWith(() => DMatrix.fromDense(x, { rows: 3, cols: 2, labels: [1, 2] }), XGBoostUsageError, /labels has 2 values but the matrix has 3 rows/);
  throwsWith(() => DMatrix.fromDense(x, { rows: 3, cols: 2, labels: [1, NaN, 2] }), XGBoostUsageError, /labels\[1\] is NaN/);
  throwsWith(() => DMatrix.fromDense(x, { rows: 3, cols: 2, weights: [1] }), XGBoostUsageError, /weights has 1 values/);
  throwsWith(() => DMatrix.fromDense(x, { rows: 3, cols: 2, featureNames: ['a'] }), XGBoostUsageError, /2 columns but 1 feature names/);
  throwsWith(() => DMatrix.fromDense(x, { rows: 3, cols: 2, featureNames: ['a', 'a'] }), XGBoostUsageError, /appears twice/);
});

test("a bad parameter value is XGBoost's own message as a JS error", async () => {
  const d = toDMatrix(data);
  await rejectsWith(train({ max_depth: 'deep' }, d, { numBoostRound: 2 }), XGBoostError, /max_depth.*deep/);
  await rejectsWith(train({ objective: 'reg:nonsense' }, d, { numBoostRound: 2 }), XGBoostError, /Unknown objective function: `reg:nonsense`/);
  await rejectsWith(train({ eta: -1 }, d, { numBoostRound: 2 }), XGBoostError, /value -1 for Parameter learning_rate should be greater equal to 0/);
  await rejectsWith(train({ subsample: 2 }, d, { numBoostRound: 2 }), XGBoostError, /value 2 for Parameter subsample exceed bound \[0,1\]/);
  await rejectsWith(train({ eval_metric: 'no-such-metric' }, d, { numBoostRound: 2, evals: [{ name: 'train', data: d }] }), XGBoostError, /no-such-metric/);
  await rejectsWith(train({ eta: NaN }, d, { numBoostRound: 2 }), XGBoostUsageError, /"eta" is NaN/);
  d.dispose();
});

test('training options that cannot work', async () => {
  const d = toDMatrix(data);
  const unlabelled = DMatrix.fromDense(data.x, { rows: data.rows, cols: data.cols });
  const narrow = toDMatrix(synthetic(10, 2, 1));
  await rejectsWith(train({}, d, { numBoostRound: 0 }), XGBoostUsageError, /numBoostRound/);
  await rejectsWith(train({}, unlabelled, { numBoostRound: 2 }), XGBoostUsageError, /training matrix has 0 labels for 100 rows/);
  await rejectsWith(train({}, d, { numBoostRound: 2, earlyStoppingRounds: 3 }), XGBoostUsageError, /needs at least one eval set/);
  await rejectsWith(train({}, d, { numBoostRound: 2, evals: [{ name: 'valid', data: narrow }] }), XGBoostUsageError, /2 columns but the training matrix has 3/);
  await rejectsWith(train({}, d, { numBoostRound: 2, evals: [{ name: 'a b', data: d }] }), XGBoostUsageError, /Eval set name/);
  await rejectsWith(
    train({}, d, { numBoostRound: 2, evals: [{ name: 'valid', data: d }], earlyStoppingRounds: 1, earlyStoppingSet: 'test' }),
    XGBoostUsageError,
    /earlyStoppingSet "test" is not one of the eval sets \(valid\)/,
  );
  for (const m of [d, unlabelled, narrow]) m.dispose();
});

test('use after dispose, of a DMatrix and of a Booster', async () => {
  const d = toDMatrix(data);
  const { booster } = await train({ nthread: 1 }, d, { numBoostRound: 2 });
  d.dispose();
  d.dispose(); // idempotent
  await rejectsWith(train({}, d, { numBoostRound: 2 }), XGBoostUsageError, /DMatrix was disposed/);
  throwsWith(() => booster.predictContribs(d), XGBoostUsageError, /DMatrix was disposed/);
  booster.dispose();
  booster.dispose(); // idempotent
  throwsWith(() => booster.predict(data.x), XGBoostUsageError, /Booster was disposed/);
  throwsWith(() => booster.toBuffer(), XGBoostUsageError, /Booster was disposed/);
  throwsWith(() => booster.featureImportance(), XGBoostUsageError, /Booster was disposed/);
  throwsWith(() => booster.bestIteration, XGBoostUsageError, /Booster was disposed/);
});

test('a DMatrix cannot be used, disposed or trained on again while a training reads it', async () => {
  const d = toDMatrix(synthetic(2000, 5, 2));
  const pending = train({ nthread: 1 }, d, { numBoostRound: 20, evals: [{ name: 'train', data: d }] });
  throwsWith(() => d.dispose(), XGBoostUsageError, /being read by a running train\(\)/);
  throwsWith(() => d.labels(), XGBoostUsageError, /being read by a running train\(\)/);
  await rejectsWith(train({}, d, { numBoostRound: 2 }), XGBoostUsageError, /being read by a running train\(\)/);
  (await pending).booster.dispose();
  assert.is(d.labels().length, 2000);
  d.dispose();
  assert.ok(d.disposed);
});

test('predict inputs of the wrong shape and impossible iteration ranges', async () => {
  const d = toDMatrix(data);
  const { booster } = await train({ nthread: 1 }, d, { numBoostRound: 3 });
  throwsWith(() => booster.predict(new Float32Array(4)), XGBoostUsageError, /model has 3 features but the input has 4 values/);
  throwsWith(() => booster.predict(new Float32Array(0)), XGBoostUsageError, /model has 3 features/);
  const wide = DMatrix.fromDense(new Float32Array(8), { rows: 2, cols: 4 });
  throwsWith(() => booster.predict(wide), XGBoostError, /feature/i);
  const reordered = DMatrix.fromDense(data.x, { rows: data.rows, cols: 3, featureNames: ['f_1', 'f_0', 'f_2'] });
  throwsWith(() => booster.predict(reordered), XGBoostUsageError, /Column 0 of the DMatrix is "f_1" but the model expects "f_0"/);
  throwsWith(() => booster.predictContribs(reordered), XGBoostUsageError, /Column 0/);
  reordered.dispose();
  throwsWith(() => booster.predict(data.x, { iterationRange: [0, 9] }), XGBoostUsageError, /not within the model's 3 rounds/);
  throwsWith(() => booster.predict(data.x, { iterationRange: 'best' }), XGBoostUsageError, /needs a model trained with early stopping/);
  throwsWith(() => booster.featureImportance('bogus' as 'gain'), XGBoostUsageError, /Unknown importance type "bogus"/);
  throwsWith(() => booster.toBuffer('xml' as 'json'), XGBoostUsageError, /Unknown model format "xml"/);
  throwsWith(() => booster.saveModel('/tmp/model.bin'), XGBoostUsageError, /must end in .json or .ubj/);
  wide.dispose();
  booster.dispose();
  d.dispose();
});

test('unreadable models', () => {
  throwsWith(() => Booster.load('/nonexistent/model.json'), Error, /ENOENT.*\/nonexistent\/model.json/);
  throwsWith(() => Booster.fromBuffer(Buffer.from('{"not": "a model"}')), XGBoostError, /loading a model from a buffer/);
  throwsWith(() => Booster.fromBuffer(Buffer.from('garbage bytes')), XGBoostError, /XGBoosterLoadModelFromBuffer/);
  throwsWith(() => Booster.fromBuffer(new Uint8Array(0)), XGBoostUsageError, /non-empty bytes/);
});

test.run();
