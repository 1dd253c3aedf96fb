// A DMatrix is built with the OpenMP threads it is given (all cores by default, as
// Python's xgb.DMatrix): XGBoost 1.7 keeps that count in the matrix and training reads it
// again, so a matrix built on one thread made nthread=2 training run partly on one core.
// libgomp starts a thread team per calling thread and keeps its threads alive, so a first
// 2-thread build on this thread shows up as one more task of the process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { DMatrix, XGBoostUsageError } from '../../lib/xgboost/index.ts';
import { synthetic } from './synthetic.ts';

const tasks = () => readdirSync('/proc/self/task').length;
const data = synthetic(2_000, 6, 5);

test('a matrix built with nthread 1 starts no OpenMP thread; the default (all cores) starts them', () => {
  // Runs first in this file, before anything has used OpenMP on the main thread.
  const before = tasks();
  const single = DMatrix.fromDense(data.x, { rows: data.rows, cols: data.cols, labels: data.y, nthread: 1 });
  assert.is(tasks(), before, 'nthread 1 must not start an OpenMP team');
  const all = DMatrix.fromDense(data.x, { rows: data.rows, cols: data.cols, labels: data.y });
  assert.ok(tasks() > before, `the default build should run on every core (${tasks()} tasks, ${before} before)`);
  single.dispose();
  all.dispose();
});

test('nthread must be a whole number ≥ 0, named in the error', () => {
  for (const nthread of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () => DMatrix.fromDense(data.x, { rows: data.rows, cols: data.cols, nthread }),
      (e: unknown) => e instanceof XGBoostUsageError && /DMatrix nthread is/.test(e.message),
    );
  }
});

test.run();
