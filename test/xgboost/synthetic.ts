// Seeded synthetic regression data for the XGBoost engine tests: a row-major Float32Array
// with a known signal, so tests are repeatable without any data file.
import { DMatrix } from '../../lib/xgboost/index.ts';

/** mulberry32: a tiny seeded PRNG, enough to make test data repeatable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Synthetic {
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly featureNames: string[];
}

/** y = 3·x0 − 2·x1 + noise·N; `noise` 1 with signal 0 makes a set early stopping must stop on. */
export function synthetic(rows: number, cols: number, seed: number, opts: { signal?: number; noise?: number } = {}): Synthetic {
  const random = rng(seed);
  const signal = opts.signal ?? 1;
  const noise = opts.noise ?? 0.1;
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = random() * 2 - 1;
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) y[r] = signal * (3 * x[r * cols]! - 2 * x[r * cols + 1]!) + noise * (random() * 2 - 1);
  return { x, y, rows, cols, featureNames: Array.from({ length: cols }, (_, i) => `f_${i}`) };
}

export function toDMatrix(s: Synthetic): DMatrix {
  return DMatrix.fromDense(s.x, { rows: s.rows, cols: s.cols, labels: s.y, featureNames: s.featureNames });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
