// Native memory: dispose() frees at once, and objects dropped without dispose() are
// freed by the finalizer once collected.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Booster, DMatrix, liveNativeObjects, train } from '../../lib/xgboost/index.ts';
import { synthetic, toDMatrix } from './synthetic.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const fixture = new URL('../fixtures/xgboost/python-model.ubj', import.meta.url).pathname;

test('dispose() frees DMatrix and Booster at once', async () => {
  const before = liveNativeObjects();
  const d = toDMatrix(synthetic(50, 3, 1));
  const { booster } = await train({ nthread: 1 }, d, { numBoostRound: 2 });
  const loaded = Booster.load(fixture);
  assert.equal(liveNativeObjects(), { dmatrix: before.dmatrix + 1, booster: before.booster + 2 });
  booster.dispose();
  loaded.dispose();
  d.dispose();
  assert.equal(liveNativeObjects(), before);
});

test('objects dropped without dispose() are freed by the finalizer', async () => {
  const before = liveNativeObjects();
  (() => {
    for (let i = 0; i < 5; i++) {
      const model = Booster.load(fixture);
      model.predict(new Float32Array(model.numFeatures)); // allocates its native scratch buffer too
      DMatrix.fromDense(new Float32Array(6), { rows: 2, cols: 3 });
    }
  })();
  assert.equal(liveNativeObjects(), { dmatrix: before.dmatrix + 5, booster: before.booster + 5 });
  for (let attempt = 0; attempt < 50 && JSON.stringify(liveNativeObjects()) !== JSON.stringify(before); attempt++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(liveNativeObjects(), before);
});

test.run();
