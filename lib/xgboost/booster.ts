// Booster: a trained XGBoost model. Predicts (from a DMatrix, or straight from a
// Float32Array of rows with no DMatrix to build), explains (SHAP contributions, feature
// importance by name), and saves/loads JSON and UBJ models as files or buffers. Each
// Booster owns its native handle: many can be alive at once, and dispose() frees one
// deterministically (a finalizer frees forgotten ones).
import { readFileSync } from 'node:fs';
import { DMatrix } from './dmatrix.ts';
import { XGBoostUsageError } from './errors.ts';
import { allocFloats, check, copyFloats, liveHandles, native, out, readBytes, readShape, readString, readStrings, type Handle } from './native.ts';

export type ModelFormat = 'json' | 'ubj';
export type ImportanceType = 'gain' | 'weight' | 'cover' | 'total_gain' | 'total_cover';

export interface PredictOptions {
  /**
   * Which boosting rounds to use: `'all'` (the default), `'best'` (rounds 0..bestIteration,
   * what early stopping chose), or `[begin, end)` as in Python's `iteration_range`.
   */
  readonly iterationRange?: 'all' | 'best' | readonly [number, number];
  /** Raw margin instead of the transformed prediction (e.g. log-odds for binary:logistic). */
  readonly outputMargin?: boolean;
  /**
   * OpenMP threads for this prediction. Default: 1 for up to 256 rows (starting an
   * OpenMP team costs ~100 µs, more than predicting a row), otherwise XGBoost's default.
   */
  readonly nthread?: number;
}

/** SHAP contributions: `values` is rows × (features + 1), row-major, the last column the bias. */
export interface Contributions {
  readonly rows: number;
  readonly featureNames: readonly string[];
  readonly values: Float32Array;
  /** One row as `{ bias, byFeature: { name: contribution } }`; bias + Σ contributions = margin. */
  row(index: number): { bias: number; byFeature: Record<string, number> };
}

const SMALL_BATCH_ROWS = 256;

const finalizer = new FinalizationRegistry<{ handle: Handle; freeScratch?: () => void }>((held) => {
  native().XGBoosterFree(held.handle);
  held.freeScratch?.();
  liveHandles.booster -= 1;
});

export class Booster {
  #handle: Handle | undefined;
  #lent = false;
  #held: { handle: Handle; freeScratch?: () => void };
  #scratch: ReturnType<typeof allocFloats> | undefined;
  #threads: number | undefined;
  #numFeatures: number | undefined;
  #modelNames: { names: readonly string[] | undefined } | undefined;

  /** Wraps a native handle the caller hands over (used by train()); prefer load/fromBuffer. */
  static fromHandle(handle: Handle): Booster {
    return new Booster(handle);
  }

  private constructor(handle: Handle) {
    this.#handle = handle;
    this.#held = { handle };
    finalizer.register(this, this.#held, this);
    liveHandles.booster += 1;
  }

  /** Loads a model file saved by this engine or by Python xgboost (`.json` or `.ubj`). */
  static load(path: string): Booster {
    modelFormatOf(path);
    // Read in JS so a missing file is a plain ENOENT naming the path, not an XGBoost log line.
    return Booster.fromBuffer(readFileSync(path), `loading model file ${path}`);
  }

  /** Loads a model from the bytes of a JSON or UBJ model (e.g. an S3 object body). */
  static fromBuffer(buffer: Uint8Array, context = 'loading a model from a buffer'): Booster {
    if (!(buffer instanceof Uint8Array) || buffer.length === 0) {
      throw new XGBoostUsageError('Booster.fromBuffer needs the non-empty bytes of a JSON or UBJ model.');
    }
    check(native().XGBoosterCreate(null, 0, out.ptr), 'XGBoosterCreate', context);
    const booster = new Booster(out.ptr[0]!);
    try {
      check(native().XGBoosterLoadModelFromBuffer(booster.handle, buffer, buffer.length), 'XGBoosterLoadModelFromBuffer', context);
    } catch (error) {
      booster.dispose();
      throw error;
    }
    return booster;
  }

  get handle(): Handle {
    if (this.#handle === undefined) {
      throw new XGBoostUsageError('This Booster was disposed; load or train a new one.');
    }
    if (this.#lent) {
      throw new XGBoostUsageError('This Booster is being trained further by continueTraining(); await it before using the booster.');
    }
    return this.#handle;
  }

  /**
   * Lends the native model to a training that boosts it further in place (continueTraining):
   * until the returned release is called, every use of the booster throws, since a worker
   * thread changes it. Releasing forgets what the training may have changed (its thread count).
   */
  lend(): () => void {
    void this.handle;
    this.#lent = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#lent = false;
      this.#threads = undefined;
    };
  }

  /**
   * A new booster with rounds [begin, end) of this one (XGBoost's slice), e.g. the rounds an
   * early stopping chose, without the rounds boosted after them, before training it further.
   */
  slice(begin: number, end: number): Booster {
    const rounds = this.numBoostedRounds;
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end <= begin || end > rounds) {
      throw new XGBoostUsageError(`slice [${begin}, ${end}) is not within the model's ${rounds} rounds; use 0 ≤ begin < end ≤ ${rounds}.`);
    }
    check(native().XGBoosterSlice(this.handle, begin, end, 1, out.ptr), 'XGBoosterSlice', `slicing rounds [${begin}, ${end})`);
    return new Booster(out.ptr[0]!);
  }

  get disposed(): boolean {
    return this.#handle === undefined;
  }

  /** Number of features the model was trained on. */
  get numFeatures(): number {
    if (this.#numFeatures === undefined) {
      check(native().XGBoosterGetNumFeature(this.handle, out.len), 'XGBoosterGetNumFeature', 'reading the number of features');
      this.#numFeatures = Number(out.len[0]);
    }
    return this.#numFeatures;
  }

  /** Number of boosting rounds in the model (all of them, not only up to the best). */
  get numBoostedRounds(): number {
    const rounds = [0];
    check(native().XGBoosterBoostedRounds(this.handle, rounds), 'XGBoosterBoostedRounds', 'reading the number of rounds');
    return rounds[0]!;
  }

  /** Feature names stored in the model, or undefined when it was trained without names. */
  get featureNames(): readonly string[] | undefined {
    check(native().XGBoosterGetStrFeatureInfo(this.handle, 'feature_name', out.len, out.ptr), 'XGBoosterGetStrFeatureInfo', 'reading the feature names');
    const n = Number(out.len[0]);
    return n === 0 ? undefined : readStrings(out.ptr[0]!, n);
  }

  /** The round early stopping chose (0-based), stored as the `best_iteration` attribute like Python does. */
  get bestIteration(): number | undefined {
    const value = this.getAttribute('best_iteration');
    return value === undefined ? undefined : Number(value);
  }

  get bestScore(): number | undefined {
    const value = this.getAttribute('best_score');
    return value === undefined ? undefined : Number(value);
  }

  getAttribute(key: string): string | undefined {
    const success = [0];
    check(native().XGBoosterGetAttr(this.handle, key, out.ptr, success), 'XGBoosterGetAttr', `reading attribute ${key}`);
    return success[0] === 1 ? readString(out.ptr[0]!) : undefined;
  }

  /** Sets a string attribute saved with the model; `undefined` deletes it. */
  setAttribute(key: string, value: string | undefined): void {
    check(native().XGBoosterSetAttr(this.handle, key, value ?? null), 'XGBoosterSetAttr', `setting attribute ${key}`);
  }

  /**
   * Predicts. `input` is a DMatrix, or a row-major Float32Array of rows × numFeatures
   * (NaN = missing), predicted in place without building a DMatrix. Returns one value
   * per row (rows × classes for multi-class models, row-major).
   */
  predict(input: DMatrix | Float32Array, options: PredictOptions = {}): Float32Array {
    const type = options.outputMargin ? 1 : 0;
    if (input instanceof DMatrix) {
      this.#checkFeatureNames(input);
      this.#useThreads(options.nthread, input.rows);
      return this.#predictDMatrix(input, type, options);
    }
    const rows = this.#rowsOf(input);
    this.#useThreads(options.nthread, rows);
    return this.#predictDense(input, rows, type, options);
  }

  /** SHAP contributions (XGBoost's `pred_contribs`), to explain each prediction by feature. */
  predictContribs(input: DMatrix | Float32Array, options: Omit<PredictOptions, 'outputMargin'> = {}): Contributions {
    if (input instanceof DMatrix) this.#checkFeatureNames(input);
    const matrix = input instanceof DMatrix ? input : DMatrix.fromDense(input, { rows: this.#rowsOf(input), cols: this.numFeatures });
    try {
      this.#useThreads(options.nthread, matrix.rows);
      const values = this.#predictDMatrix(matrix, 2, options);
      const featureNames = this.featureNames ?? Array.from({ length: this.numFeatures }, (_, i) => `f${i}`);
      return contributions(values, matrix.rows, featureNames);
    } finally {
      if (matrix !== input) matrix.dispose();
    }
  }

  /**
   * Feature importance by feature name (or `f0`, `f1`… when the model has none), as
   * Python's `Booster.get_score`: features never used in a split are absent.
   */
  featureImportance(type: ImportanceType = 'gain'): Record<string, number> {
    const allowed: readonly string[] = ['gain', 'weight', 'cover', 'total_gain', 'total_cover'];
    if (!allowed.includes(type)) {
      throw new XGBoostUsageError(`Unknown importance type "${type}"; use one of ${allowed.join(', ')}.`);
    }
    const config = JSON.stringify({ importance_type: type, feature_map: '' });
    const shapePtr = new BigUint64Array(1);
    const scoresPtr = new BigUint64Array(1);
    check(
      native().XGBoosterFeatureScore(this.handle, config, out.len, out.ptr, out.dim, shapePtr, scoresPtr),
      'XGBoosterFeatureScore',
      `computing ${type} feature importance`,
    );
    const names = readStrings(out.ptr[0]!, Number(out.len[0]));
    const size = readShape(shapePtr[0]!, Number(out.dim[0])).reduce((a, b) => a * b, 1);
    const scores = copyFloats(scoresPtr[0]!, names.length === 0 ? 0 : size);
    const result: Record<string, number> = {};
    for (const [i, name] of names.entries()) result[name] = scores[i]!;
    return result;
  }

  /** Saves the model; the format follows the extension (`.json` or `.ubj`), both readable by Python xgboost. */
  saveModel(path: string): void {
    modelFormatOf(path);
    check(native().XGBoosterSaveModel(this.handle, path), 'XGBoosterSaveModel', `saving the model to ${path}`);
  }

  /** The model as JSON or UBJ bytes (for S3); Booster.fromBuffer reads both back. */
  toBuffer(format: ModelFormat = 'json'): Buffer {
    if (format !== 'json' && format !== 'ubj') {
      throw new XGBoostUsageError(`Unknown model format "${format as string}"; use "json" or "ubj".`);
    }
    check(
      native().XGBoosterSaveModelToBuffer(this.handle, JSON.stringify({ format }), out.len, out.ptr),
      'XGBoosterSaveModelToBuffer',
      `serialising the model as ${format}`,
    );
    return readBytes(out.ptr[0]!, Number(out.len[0]));
  }

  /** Frees the native model now. Idempotent; any later use throws a clear error. */
  dispose(): void {
    if (this.#handle === undefined) return;
    if (this.#lent) throw new XGBoostUsageError('This Booster is being trained further by continueTraining(); await it before disposing it.');
    finalizer.unregister(this);
    const handle = this.#handle;
    this.#handle = undefined;
    liveHandles.booster -= 1;
    this.#scratch?.free();
    this.#scratch = undefined;
    check(native().XGBoosterFree(handle), 'XGBoosterFree', 'freeing a Booster');
  }

  // XGBoost's C API checks only the column count; a matrix whose named columns are in
  // another order would silently predict nonsense, so compare names when both have them.
  #checkFeatureNames(matrix: DMatrix): void {
    const names = matrix.featureNames;
    if (names === undefined) return;
    this.#modelNames ??= { names: this.featureNames };
    const expected = this.#modelNames.names;
    if (expected === undefined || names.length !== expected.length) return;
    const i = names.findIndex((name, j) => name !== expected[j]);
    if (i >= 0) {
      throw new XGBoostUsageError(
        `Column ${i} of the DMatrix is "${names[i]}" but the model expects "${expected[i]}"; build the matrix with the model's feature order (booster.featureNames).`,
      );
    }
  }

  #rowsOf(data: Float32Array): number {
    if (!(data instanceof Float32Array)) {
      throw new XGBoostUsageError('predict needs a DMatrix or a row-major Float32Array (NaN for missing).');
    }
    const cols = this.numFeatures;
    if (data.length === 0 || data.length % cols !== 0) {
      throw new XGBoostUsageError(
        `The model has ${cols} features but the input has ${data.length} values, not a positive multiple of ${cols}; pass rows × ${cols} values, row-major.`,
      );
    }
    return data.length / cols;
  }

  #useThreads(requested: number | undefined, rows: number): void {
    const threads = requested ?? (rows <= SMALL_BATCH_ROWS ? 1 : 0);
    if (threads === this.#threads) return;
    check(native().XGBoosterSetParam(this.handle, 'nthread', String(threads)), 'XGBoosterSetParam', `setting nthread=${threads}`);
    this.#threads = threads;
  }

  #range(options: PredictOptions): [number, number] {
    const range = options.iterationRange ?? 'all';
    if (range === 'all') return [0, 0];
    if (range === 'best') {
      const best = this.bestIteration;
      if (best === undefined) {
        throw new XGBoostUsageError('iterationRange "best" needs a model trained with early stopping (no best_iteration attribute).');
      }
      return [0, best + 1];
    }
    const [begin, end] = range;
    const rounds = this.numBoostedRounds;
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end <= begin || end > rounds) {
      throw new XGBoostUsageError(`iterationRange [${begin}, ${end}) is not within the model's ${rounds} rounds; use 0 ≤ begin < end ≤ ${rounds}.`);
    }
    return [begin, end];
  }

  #predictDMatrix(matrix: DMatrix, type: number, options: PredictOptions): Float32Array {
    const [begin, end] = this.#range(options);
    const config = `{"type":${type},"training":false,"iteration_begin":${begin},"iteration_end":${end},"strict_shape":false}`;
    check(
      native().XGBoosterPredictFromDMatrix(this.handle, matrix.handle, config, out.ptr2, out.dim, out.ptr),
      'XGBoosterPredictFromDMatrix',
      `predicting ${matrix.rows} rows`,
    );
    return this.#readPrediction();
  }

  #predictDense(data: Float32Array, rows: number, type: number, options: PredictOptions): Float32Array {
    const [begin, end] = this.#range(options);
    // In-place prediction reads the rows through a pointer, so copy them into native
    // memory that cannot move (a JS typed array's address is not ours to keep).
    if (this.#scratch === undefined || this.#scratch.view.length < data.length) {
      this.#scratch?.free();
      this.#scratch = allocFloats(Math.max(data.length, 1024));
      this.#held.freeScratch = this.#scratch.free;
    }
    this.#scratch.view.set(data);
    const arrayInterface = `{"data":[${this.#scratch.ptr},true],"shape":[${rows},${this.numFeatures}],"typestr":"<f4","version":3}`;
    const config = `{"type":${type},"training":false,"iteration_begin":${begin},"iteration_end":${end},"strict_shape":false,"missing":NaN,"cache_id":0}`;
    check(
      native().XGBoosterPredictFromDense(this.handle, arrayInterface, config, null, out.ptr2, out.dim, out.ptr),
      'XGBoosterPredictFromDense',
      `predicting ${rows} rows`,
    );
    return this.#readPrediction();
  }

  #readPrediction(): Float32Array {
    const shape = readShape(out.ptr2[0]!, Number(out.dim[0]));
    return copyFloats(
      out.ptr[0]!,
      shape.reduce((a, b) => a * b, 1),
    );
  }
}

function modelFormatOf(path: string): ModelFormat {
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.ubj')) return 'ubj';
  throw new XGBoostUsageError(`Model path "${path}" must end in .json or .ubj (the formats Python xgboost also reads).`);
}

function contributions(values: Float32Array, rows: number, featureNames: readonly string[]): Contributions {
  const width = featureNames.length + 1;
  if (values.length !== rows * width) {
    throw new Error(`XGBoost returned ${values.length} contributions for ${rows} rows × ${width} columns; multi-class contributions are not supported here.`);
  }
  return {
    rows,
    featureNames,
    values,
    row(index: number) {
      if (!Number.isInteger(index) || index < 0 || index >= rows) {
        throw new XGBoostUsageError(`Row ${index} is outside the ${rows} explained rows.`);
      }
      const byFeature: Record<string, number> = {};
      for (const [j, name] of featureNames.entries()) byFeature[name] = values[index * width + j]!;
      return { bias: values[index * width + width - 1]!, byFeature };
    },
  };
}
