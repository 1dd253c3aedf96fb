// DMatrix: XGBoost's data matrix, built from a row-major Float32Array in which NaN (and
// only NaN) is a missing value, with optional labels, weights and feature names. The
// native memory is freed by dispose(), or by a finalizer if the caller forgets.
import { XGBoostUsageError } from './errors.ts';
import { check, copyFloats, liveHandles, native, out, type Handle } from './native.ts';

export interface DMatrixOptions {
  /** Number of rows; data.length must equal rows × cols. */
  readonly rows: number;
  readonly cols: number;
  /** One label per row (any real value, negative included). */
  readonly labels?: Float32Array | readonly number[];
  /** One weight per row. */
  readonly weights?: Float32Array | readonly number[];
  /** One name per column; saved in models and used by featureImportance / predictContribs. */
  readonly featureNames?: readonly string[];
  /**
   * OpenMP threads of this matrix: used to build it and kept in it, where XGBoost 1.7's
   * training reads it again (below). Default 0: all cores, as Python's `xgb.DMatrix`. Give
   * the training's `nthread` when several trainings share the cores.
   */
  readonly nthread?: number;
}

// Safety net only: a DMatrix dropped without dispose() is freed when collected.
const finalizer = new FinalizationRegistry<Handle>((handle) => {
  native().XGDMatrixFree(handle);
  liveHandles.dmatrix -= 1;
});

export class DMatrix {
  #handle: Handle | undefined;
  #pinned = false;
  readonly rows: number;
  readonly cols: number;
  readonly featureNames: readonly string[] | undefined;

  private constructor(handle: Handle, rows: number, cols: number, featureNames: readonly string[] | undefined) {
    this.#handle = handle;
    this.rows = rows;
    this.cols = cols;
    this.featureNames = featureNames;
    finalizer.register(this, handle, this);
    liveHandles.dmatrix += 1;
  }

  /** Builds a DMatrix from row-major data; NaN marks a missing value (-1 is an ordinary value). */
  static fromDense(data: Float32Array, options: DMatrixOptions): DMatrix {
    const { rows, cols } = options;
    if (!(data instanceof Float32Array)) {
      throw new XGBoostUsageError('DMatrix.fromDense needs a Float32Array (row-major, NaN for missing).');
    }
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1) {
      throw new XGBoostUsageError(`DMatrix shape ${rows} × ${cols} is not valid; rows must be ≥ 0 and cols ≥ 1, both integers.`);
    }
    if (data.length !== rows * cols) {
      throw new XGBoostUsageError(
        `DMatrix data has ${data.length} values but rows × cols = ${rows} × ${cols} = ${rows * cols}; pass the row-major matrix with exactly that many values.`,
      );
    }
    checkPerRow('labels', options.labels, rows);
    checkPerRow('weights', options.weights, rows);
    if (options.featureNames !== undefined) checkFeatureNames(options.featureNames, cols);
    const nthread = options.nthread ?? 0;
    if (!Number.isInteger(nthread) || nthread < 0) {
      throw new XGBoostUsageError(`DMatrix nthread is ${nthread}; give a whole number of threads ≥ 1, or 0 for all cores.`);
    }

    // Why _omp and not XGDMatrixCreateFromMat: the plain call builds the matrix with
    // nthread=1 and XGBoost 1.7 keeps that count in the matrix's own context, which training
    // reads again — the quantile sketch and gradient index (hist) are built with it, and so
    // is some of each round's work on the matrix. Training with nthread=2 then ran partly on
    // one thread: measured on the idle 2-core machine, 200,000 × 40, 50 rounds, the OpenMP
    // threads' CPU was 315:189 ticks (wall 3.5–3.7 s) against 280:254 (2.7–3.1 s) for a
    // matrix built with 2 threads — the ~20 % gap to Python xgboost, whose DMatrix takes all
    // cores by default.
    check(native().XGDMatrixCreateFromMat_omp(data, rows, cols, NaN, out.ptr, nthread), 'XGDMatrixCreateFromMat_omp', `building a ${rows} × ${cols} DMatrix`);
    const matrix = new DMatrix(out.ptr[0]!, rows, cols, options.featureNames ? [...options.featureNames] : undefined);
    try {
      if (options.labels) matrix.#setFloats('label', options.labels);
      if (options.weights) matrix.#setFloats('weight', options.weights);
      if (options.featureNames) {
        check(
          native().XGDMatrixSetStrFeatureInfo(matrix.handle, 'feature_name', [...options.featureNames], cols),
          'XGDMatrixSetStrFeatureInfo',
          'setting the DMatrix feature names',
        );
      }
    } catch (error) {
      matrix.dispose();
      throw error;
    }
    return matrix;
  }

  /**
   * Replaces the labels (one per row). XGBoost keeps what it derived from the data (the hist
   * quantile cuts and gradient index, ~1 s for 45,000 × 110 on one thread) across a label
   * change, so several models of the same rows with different targets can share one matrix
   * and pay for that index once. Throws while a training reads the matrix.
   */
  setLabels(labels: Float32Array | readonly number[]): void {
    checkPerRow('labels', labels, this.rows);
    this.#setFloats('label', labels);
  }

  /**
   * Replaces the row weights (one per row). Like labels, weights leave the hist index as it
   * was built: a matrix over more rows than a training should see can stand for that
   * training's window by giving the other rows weight 0 (XGBoost's sketch skips zero-weight
   * values, and a zero-weight row adds nothing to a gradient or hessian sum), so a walk-forward
   * that moves its window by a day reuses one matrix and its index. Throws while a training
   * reads the matrix.
   */
  setWeights(weights: Float32Array | readonly number[]): void {
    checkPerRow('weights', weights, this.rows);
    this.#setFloats('weight', weights);
  }

  /** The weights XGBoost holds for this matrix (a copy; empty when none were set). */
  weights(): Float32Array {
    return this.#getFloats('weight');
  }

  /** The labels XGBoost holds for this matrix (a copy). */
  labels(): Float32Array {
    return this.#getFloats('label');
  }

  /** The native handle; throws a clear error once disposed or while a training reads it. */
  get handle(): Handle {
    if (this.#handle === undefined) {
      throw new XGBoostUsageError('This DMatrix was disposed; build a new one with DMatrix.fromDense().');
    }
    if (this.#pinned) {
      throw new XGBoostUsageError('This DMatrix is being read by a running train(); await the training before using it again.');
    }
    return this.#handle;
  }

  get disposed(): boolean {
    return this.#handle === undefined;
  }

  /**
   * Lends the matrix to a running training. XGBoost caches derived data inside a DMatrix
   * (the histogram index) without locking, so while the worker thread trains on it no
   * other code may touch it: `handle`, dispose() and a second train() throw until the
   * returned release function is called.
   */
  pin(): () => void {
    void this.handle;
    this.#pinned = true;
    let released = false;
    return () => {
      if (!released) this.#pinned = false;
      released = true;
    };
  }

  /** Frees the native matrix now. Idempotent. Throws while a training still reads it. */
  dispose(): void {
    if (this.#handle === undefined) return;
    if (this.#pinned) {
      throw new XGBoostUsageError('This DMatrix is being read by a running train(); await the training before disposing it.');
    }
    finalizer.unregister(this);
    const handle = this.#handle;
    this.#handle = undefined;
    liveHandles.dmatrix -= 1;
    check(native().XGDMatrixFree(handle), 'XGDMatrixFree', 'freeing a DMatrix');
  }

  #setFloats(field: string, values: Float32Array | readonly number[]): void {
    const array = values instanceof Float32Array ? values : Float32Array.from(values);
    check(native().XGDMatrixSetFloatInfo(this.handle, field, array, array.length), 'XGDMatrixSetFloatInfo', `setting the DMatrix ${field}s`);
  }

  #getFloats(field: string): Float32Array {
    check(native().XGDMatrixGetFloatInfo(this.handle, field, out.len, out.ptr), 'XGDMatrixGetFloatInfo', `reading the DMatrix ${field}s`);
    const n = Number(out.len[0]);
    return n === 0 ? new Float32Array(0) : copyFloats(out.ptr[0]!, n);
  }
}

function checkPerRow(what: string, values: Float32Array | readonly number[] | undefined, rows: number): void {
  if (values === undefined) return;
  if (values.length !== rows) {
    throw new XGBoostUsageError(`DMatrix ${what} has ${values.length} values but the matrix has ${rows} rows; give one per row.`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new XGBoostUsageError(`DMatrix ${what}[${i}] is ${values[i]}; ${what} must be finite numbers.`);
    }
  }
}

function checkFeatureNames(names: readonly string[], cols: number): void {
  if (names.length !== cols) {
    throw new XGBoostUsageError(`DMatrix has ${cols} columns but ${names.length} feature names; give one name per column.`);
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || name === '') throw new XGBoostUsageError('Feature names must be non-empty strings.');
    // XGBoost rejects these characters in feature names (they break its text dumps).
    if (/[[\]<,]/.test(name)) throw new XGBoostUsageError(`Feature name "${name}" contains one of [ ] < , which XGBoost does not allow.`);
    if (seen.has(name)) throw new XGBoostUsageError(`Feature name "${name}" appears twice; names must be unique.`);
    seen.add(name);
  }
}
