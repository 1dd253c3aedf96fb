// The FFI binding to XGBoost's C API (libxgboost.so 1.7.5 shipped by the `xgboost_node`
// npm package; headers in node_modules/xgboost_node/deps/xgboost-1.7.5/include). It only
// declares the C functions and turns their `-1` return codes into XGBoostError; the
// engine's objects (DMatrix, Booster, train) are built on it in the other modules.
//
// Why koffi and not an N-API addon (measured on this 2-core machine, shared, Node 20,
// OMP_WAIT_POLICY=passive, 20,000 timed calls after 2,000 warm-up calls):
//   - koffi per-call overhead: a trivial call (XGBoosterBoostedRounds) costs a median of
//     0.10-0.14 µs (p99 0.2 µs).
//   - A minimal N-API addon (C, compiled with gcc against /usr/include/node and linked to
//     the same .so) making the same call: median 0.07 µs (p99 0.09 µs).
//   - Predicting 1 row (60 features, 100 trees of depth 6) through koffi costs a median of
//     about 29 µs with nthread=1 (and ~130 µs with nthread=2: OpenMP's team start-up, not
//     the FFI, dominates), whether through XGDMatrixCreateFromMat + PredictFromDMatrix
//     or through in-place XGBoosterPredictFromDense.
// So the FFI share of a 1-row prediction is well under 1%; an addon would save ~0.05 µs
// per call but would need a C++ toolchain at install time, a build step and native code
// to maintain. koffi loads the shipped .so as is, so we use koffi.
//
// Threading: XGBGetLastError is thread-local in XGBoost, so a failing call must be asked
// for its error on the thread that made it. That rules out koffi's `.async` calls (they
// run on a libuv pool thread, and with a 128 KiB stack); training instead runs
// synchronous calls inside a worker thread (see train.ts), where errors stay readable.
import koffi from 'koffi';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { XGBoostError, cleanXGBoostMessage } from './errors.ts';

/** An opaque XGBoost handle (DMatrixHandle / BoosterHandle): koffi 3 passes pointers as BigInt. */
export type Handle = bigint;

function libraryPath(): string {
  const fromEnv = process.env['XGBOOST_LIBRARY_PATH'];
  if (fromEnv) return fromEnv;
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('xgboost_node/package.json')), 'lib', 'libxgboost.so');
}

const lib = koffi.load(libraryPath());

// Out-parameters (`T **out`, `bst_ulong *out`) are passed as small typed arrays: koffi hands
// their memory to C directly, which is the cheapest way to read a pointer or a count back.
const fn = {
  XGBGetLastError: lib.func('const char *XGBGetLastError()'),
  XGBoostVersion: lib.func('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)'),
  XGBSetGlobalConfig: lib.func('int XGBSetGlobalConfig(const char *config)'),
  XGDMatrixCreateFromMat: lib.func(
    'int XGDMatrixCreateFromMat(const float *data, uint64_t nrow, uint64_t ncol, float missing, void *out)',
  ),
  XGDMatrixFree: lib.func('int XGDMatrixFree(void *handle)'),
  XGDMatrixSetFloatInfo: lib.func(
    'int XGDMatrixSetFloatInfo(void *handle, const char *field, const float *array, uint64_t len)',
  ),
  XGDMatrixGetFloatInfo: lib.func(
    'int XGDMatrixGetFloatInfo(void *handle, const char *field, void *outLen, void *outArray)',
  ),
  XGDMatrixSetStrFeatureInfo: lib.func(
    'int XGDMatrixSetStrFeatureInfo(void *handle, const char *field, const char **features, uint64_t size)',
  ),
  XGDMatrixNumRow: lib.func('int XGDMatrixNumRow(void *handle, void *out)'),
  XGDMatrixNumCol: lib.func('int XGDMatrixNumCol(void *handle, void *out)'),
  XGBoosterCreate: lib.func('int XGBoosterCreate(void *dmats, uint64_t len, void *out)'),
  XGBoosterFree: lib.func('int XGBoosterFree(void *handle)'),
  XGBoosterSetParam: lib.func('int XGBoosterSetParam(void *handle, const char *name, const char *value)'),
  XGBoosterUpdateOneIter: lib.func('int XGBoosterUpdateOneIter(void *handle, int iter, void *dtrain)'),
  XGBoosterEvalOneIter: lib.func(
    'int XGBoosterEvalOneIter(void *handle, int iter, void *dmats, const char **evnames, uint64_t len, void *out)',
  ),
  XGBoosterBoostedRounds: lib.func('int XGBoosterBoostedRounds(void *handle, _Out_ int *out)'),
  XGBoosterGetNumFeature: lib.func('int XGBoosterGetNumFeature(void *handle, void *out)'),
  XGBoosterPredictFromDMatrix: lib.func(
    'int XGBoosterPredictFromDMatrix(void *handle, void *dmat, const char *config, void *outShape, void *outDim, void *outResult)',
  ),
  XGBoosterPredictFromDense: lib.func(
    'int XGBoosterPredictFromDense(void *handle, const char *values, const char *config, void *proxy, void *outShape, void *outDim, void *outResult)',
  ),
  XGBoosterSaveModel: lib.func('int XGBoosterSaveModel(void *handle, const char *fname)'),
  XGBoosterLoadModel: lib.func('int XGBoosterLoadModel(void *handle, const char *fname)'),
  XGBoosterSaveModelToBuffer: lib.func(
    'int XGBoosterSaveModelToBuffer(void *handle, const char *config, void *outLen, void *outData)',
  ),
  XGBoosterLoadModelFromBuffer: lib.func(
    'int XGBoosterLoadModelFromBuffer(void *handle, const void *buf, uint64_t len)',
  ),
  XGBoosterGetAttr: lib.func('int XGBoosterGetAttr(void *handle, const char *key, void *out, _Out_ int *success)'),
  XGBoosterSetAttr: lib.func('int XGBoosterSetAttr(void *handle, const char *key, const char *value)'),
  XGBoosterSetStrFeatureInfo: lib.func(
    'int XGBoosterSetStrFeatureInfo(void *handle, const char *field, const char **features, uint64_t size)',
  ),
  XGBoosterGetStrFeatureInfo: lib.func(
    'int XGBoosterGetStrFeatureInfo(void *handle, const char *field, void *outLen, void *outFeatures)',
  ),
  XGBoosterFeatureScore: lib.func(
    'int XGBoosterFeatureScore(void *handle, const char *config, void *outNFeatures, void *outFeatures, void *outDim, void *outShape, void *outScores)',
  ),
};

export type NativeFunctions = typeof fn;
export const native: NativeFunctions = fn;

/** Throws XGBoostError with XGBoost's own message when a C call returned non-zero. */
export function check(rc: number, operation: string, context: string): void {
  if (rc === 0) return;
  const raw = (fn.XGBGetLastError() as string | null) ?? '(XGBoost gave no message)';
  throw new XGBoostError(operation, cleanXGBoostMessage(raw), context);
}

// Scratch out-parameters. Safe to share because every call on one thread is synchronous
// and its result is read before the next call; each worker thread has its own module copy.
export const out = {
  ptr: new BigUint64Array(1),
  ptr2: new BigUint64Array(1),
  len: new BigUint64Array(1),
  dim: new BigUint64Array(1),
  int: new Int32Array(1),
};

/** Copies `n` floats out of XGBoost-owned memory (valid only until the next call on this booster). */
export function copyFloats(ptr: bigint, n: number): Float32Array {
  if (n === 0) return new Float32Array(0);
  return new Float32Array(koffi.view(ptr, n * 4)).slice();
}

/** Reads a `bst_ulong[n]` array (shapes) from XGBoost-owned memory. */
export function readShape(ptr: bigint, n: number): number[] {
  if (n === 0) return [];
  return Array.from(new BigUint64Array(koffi.view(ptr, n * 8)), Number);
}

/** Views `n` bytes of XGBoost-owned memory (copy them before the next call). */
export function readBytes(ptr: bigint, n: number): Uint8Array {
  return n === 0 ? new Uint8Array(0) : new Uint8Array(koffi.view(ptr, n));
}

/** Reads a NUL-terminated C string. */
export function readString(ptr: bigint): string {
  return koffi.decode(ptr, 'char', -1) as string;
}

/** Reads an array of `n` C strings (`const char **`). */
export function readStrings(ptr: bigint, n: number): string[] {
  if (n === 0) return [];
  return koffi.decode(ptr, 'const char *', n) as string[];
}

/** Native memory that does not move, for in-place prediction from JS rows. */
export function allocFloats(n: number): { ptr: bigint; view: Float32Array; free: () => void } {
  const ptr = koffi.alloc('float', n) as bigint;
  return { ptr, view: new Float32Array(koffi.view(ptr, n * 4)), free: () => koffi.free(ptr) };
}

export function xgboostVersion(): string {
  const major = [0];
  const minor = [0];
  const patch = [0];
  fn.XGBoostVersion(major, minor, patch);
  return `${major[0]}.${minor[0]}.${patch[0]}`;
}
