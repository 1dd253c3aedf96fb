// The FFI binding to XGBoost's C API (libxgboost 1.7: the distribution's when installed,
// else the 1.7.5 the `xgboost_node` npm package ships, see loadLibrary; headers in
// node_modules/xgboost_node/deps/xgboost-1.7.5/include). It only
// declares the C functions and turns their `-1` return codes into XGBoostError; the
// engine's objects (DMatrix, Booster, train) are built on it in the other modules. The
// library is loaded on the first call of native(), not on import, with the OpenMP policy
// configured before (config.ts).
//
// Why koffi and not an N-API addon. Measured on this 2-core machine (shared with other
// work, load average ~2), Node 20, OMP_WAIT_POLICY=passive, medians of 20,000 timed calls
// after 2,000 warm-up calls, model of 100 trees of depth 6 on 60 features:
//   call                                     koffi            minimal N-API addon (C, gcc)
//   XGBoosterBoostedRounds (trivial)         0.10-0.11 µs      0.07-0.12 µs
//   XGBoosterPredictFromDense, 1 row         24.0-26.6 µs      23.6-26.9 µs
//   this engine's booster.predict(1 row)     24.8 µs (p99 55 µs)
// The FFI costs ~0.04 µs more per call than N-API, i.e. nothing next to XGBoost's own work
// for one row; what does matter is OpenMP: with nthread=2 a 1-row prediction costs
// ~130 µs (starting a thread team), hence Booster uses 1 thread for small batches. An
// addon would need a C++ toolchain at install time, a build step and native code to
// maintain; koffi loads the shipped .so as it is. So: koffi.
//
// Threading: XGBGetLastError is thread-local in XGBoost, so a failing call must be asked
// for its error on the thread that made it. That rules out koffi's `.async` calls (they
// run on a libuv pool thread, and with a 128 KiB stack); training instead runs
// synchronous calls inside a worker thread (see train.ts), where errors stay readable.
import koffi from 'koffi';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadOptions, markLoaded } from './config.ts';
import { XGBoostError, cleanXGBoostMessage } from './errors.ts';

/** An opaque XGBoost handle (DMatrixHandle / BoosterHandle): koffi 3 passes pointers as BigInt. */
export type Handle = bigint;

// Which libxgboost. Training on 200,000 × 40 (300 rounds, hist, nthread 2) through this
// binding was ~8–20 % slower than Python xgboost on the same data, and the cause was not
// the binding, the worker thread, OpenMP or the DMatrix: it was the library. Python loads
// Debian's libxgboost0 (1.7.4, built with Debian's GCC 12); xgboost_node ships a 1.7.5
// built with Ubuntu's GCC 11. Measured 2026-12-02 on the idle 2-core machine, 50,000 × 40,
// 100 rounds, fastest of 3 each, same run, OMP_WAIT_POLICY=passive on both sides: shipped
// library 1.083 × Python's time, Debian's library through this same binding 0.911 ×. Both
// OpenMP threads were busy in either case (/proc/PID/task: the worker thread and one libgomp
// thread, 79:69 ticks over 0.85 s), and spinning instead of sleeping between parallel
// regions (GOMP_SPINCOUNT=100000) changed nothing measurable (1.062 ×), so the project keeps
// OMP_WAIT_POLICY=passive. Hence: the distribution's 1.7 library when it is installed
// (`apt-get install libxgboost0`, which python3-xgboost pulls in), else the shipped one;
// XGBOOST_LIBRARY_PATH names another. Models are the same format either way (1.7 JSON/UBJ).
type KoffiLib = ReturnType<typeof koffi.load>;
const DISTRIBUTION_LIBRARY = '/usr/lib/x86_64-linux-gnu/libxgboost.so.0';

function shippedLibraryPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('xgboost_node/package.json')), 'lib', 'libxgboost.so');
}

/** The library's version as [major, minor, patch]. */
function versionOf(library: KoffiLib): [number, number, number] {
  const major = [0];
  const minor = [0];
  const patch = [0];
  library.func('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)')(major, minor, patch);
  return [major[0]!, minor[0]!, patch[0]!];
}

function loadLibrary(): { lib: KoffiLib; path: string } {
  const fromEnv = process.env['XGBOOST_LIBRARY_PATH'];
  if (fromEnv) return { lib: koffi.load(fromEnv), path: fromEnv };
  if (existsSync(DISTRIBUTION_LIBRARY)) {
    const candidate = koffi.load(DISTRIBUTION_LIBRARY);
    const [major, minor] = versionOf(candidate);
    // Only the series the engine is written and tested against (C API and model format).
    if (major === 1 && minor === 7) return { lib: candidate, path: DISTRIBUTION_LIBRARY };
    candidate.unload();
  }
  const path = shippedLibraryPath();
  return { lib: koffi.load(path), path };
}

// memcpy into a JS typed array is the cheapest copy out of XGBoost-owned memory: koffi
// passes the typed array's storage directly, where koffi.view() would first create an
// external ArrayBuffer (measured: ~6 µs of overhead per 1-row prediction with views).
const libc = koffi.load('libc.so.6');
const memcpy = libc.func('void *memcpy(void *dest, const void *src, size_t n)');
// The C environment itself (see prepareOpenMp).
const setenv = libc.func('int setenv(const char *name, const char *value, int overwrite)');
const getenv = libc.func('const char *getenv(const char *name)');

// Out-parameters (`T **out`, `bst_ulong *out`) are passed as small typed arrays: koffi hands
// their memory to C directly, which is the cheapest way to read a pointer or a count back.
function bind(lib: KoffiLib) {
  return {
    XGBGetLastError: lib.func('const char *XGBGetLastError()'),
    XGBoostVersion: lib.func('void XGBoostVersion(_Out_ int *major, _Out_ int *minor, _Out_ int *patch)'),
    XGBSetGlobalConfig: lib.func('int XGBSetGlobalConfig(const char *config)'),
    XGDMatrixCreateFromMat_omp: lib.func(
      'int XGDMatrixCreateFromMat_omp(const float *data, uint64_t nrow, uint64_t ncol, float missing, void *out, int nthread)',
    ),
    XGDMatrixFree: lib.func('int XGDMatrixFree(void *handle)'),
    XGDMatrixSetFloatInfo: lib.func('int XGDMatrixSetFloatInfo(void *handle, const char *field, const float *array, uint64_t len)'),
    XGDMatrixGetFloatInfo: lib.func('int XGDMatrixGetFloatInfo(void *handle, const char *field, void *outLen, void *outArray)'),
    XGDMatrixSetStrFeatureInfo: lib.func('int XGDMatrixSetStrFeatureInfo(void *handle, const char *field, const char **features, uint64_t size)'),
    XGDMatrixNumRow: lib.func('int XGDMatrixNumRow(void *handle, void *out)'),
    XGDMatrixNumCol: lib.func('int XGDMatrixNumCol(void *handle, void *out)'),
    XGBoosterCreate: lib.func('int XGBoosterCreate(void *dmats, uint64_t len, void *out)'),
    XGBoosterFree: lib.func('int XGBoosterFree(void *handle)'),
    XGBoosterSetParam: lib.func('int XGBoosterSetParam(void *handle, const char *name, const char *value)'),
    XGBoosterUpdateOneIter: lib.func('int XGBoosterUpdateOneIter(void *handle, int iter, void *dtrain)'),
    XGBoosterEvalOneIter: lib.func('int XGBoosterEvalOneIter(void *handle, int iter, void *dmats, const char **evnames, uint64_t len, void *out)'),
    XGBoosterBoostedRounds: lib.func('int XGBoosterBoostedRounds(void *handle, _Out_ int *out)'),
    XGBoosterSlice: lib.func('int XGBoosterSlice(void *handle, int begin, int end, int step, void *out)'),
    XGBoosterGetNumFeature: lib.func('int XGBoosterGetNumFeature(void *handle, void *out)'),
    XGBoosterPredictFromDMatrix: lib.func(
      'int XGBoosterPredictFromDMatrix(void *handle, void *dmat, const char *config, void *outShape, void *outDim, void *outResult)',
    ),
    XGBoosterPredictFromDense: lib.func(
      'int XGBoosterPredictFromDense(void *handle, const char *values, const char *config, void *proxy, void *outShape, void *outDim, void *outResult)',
    ),
    XGBoosterSaveModel: lib.func('int XGBoosterSaveModel(void *handle, const char *fname)'),
    XGBoosterLoadModel: lib.func('int XGBoosterLoadModel(void *handle, const char *fname)'),
    XGBoosterSaveModelToBuffer: lib.func('int XGBoosterSaveModelToBuffer(void *handle, const char *config, void *outLen, void *outData)'),
    XGBoosterLoadModelFromBuffer: lib.func('int XGBoosterLoadModelFromBuffer(void *handle, const void *buf, uint64_t len)'),
    XGBoosterGetAttr: lib.func('int XGBoosterGetAttr(void *handle, const char *key, void *out, _Out_ int *success)'),
    XGBoosterSetAttr: lib.func('int XGBoosterSetAttr(void *handle, const char *key, const char *value)'),
    XGBoosterSetStrFeatureInfo: lib.func('int XGBoosterSetStrFeatureInfo(void *handle, const char *field, const char **features, uint64_t size)'),
    XGBoosterGetStrFeatureInfo: lib.func('int XGBoosterGetStrFeatureInfo(void *handle, const char *field, void *outLen, void *outFeatures)'),
    XGBoosterFeatureScore: lib.func(
      'int XGBoosterFeatureScore(void *handle, const char *config, void *outNFeatures, void *outFeatures, void *outDim, void *outShape, void *outScores)',
    ),
  };
}

export type NativeFunctions = ReturnType<typeof bind>;

/**
 * Puts OpenMP's idle-thread policy into the C environment, where libgomp reads it when
 * libxgboost pulls it in: the configured one (configureXGBoost), else the environment's own,
 * else "passive". Through libc's setenv rather than process.env: in a worker thread,
 * process.env is a copy on the JavaScript side that libgomp never sees.
 */
function prepareOpenMp(): void {
  const options = loadOptions();
  if (options) setenv('OMP_WAIT_POLICY', options.ompWaitPolicy, 1);
  else setenv('OMP_WAIT_POLICY', 'passive', 0);
  const policy = (getenv('OMP_WAIT_POLICY') as string | null)?.toLowerCase();
  if (policy === 'passive' || policy === 'active') markLoaded({ ompWaitPolicy: policy });
}

let loaded: { readonly fn: NativeFunctions; readonly path: string } | undefined;

function load(): { readonly fn: NativeFunctions; readonly path: string } {
  if (loaded) return loaded;
  prepareOpenMp();
  const { lib, path } = loadLibrary();
  loaded = { fn: bind(lib), path };
  return loaded;
}

/**
 * The C functions, loading libxgboost on the first call (never on import: how it loads is
 * configured first, see config.ts). Each worker thread has its own module copy and loads it
 * again, which only binds the functions of the library the process already holds.
 */
export function native(): NativeFunctions {
  return (loaded ?? load()).fn;
}

/** The file of the libxgboost this process loaded (see loadLibrary); loads it when not yet loaded. */
export function xgboostLibraryPath(): string {
  return load().path;
}

/**
 * Native objects currently alive in this thread (created and not yet freed by dispose()
 * or the finalizer): a leak check for tests and for a metrics gauge.
 */
export const liveHandles = { dmatrix: 0, booster: 0 };

export function liveNativeObjects(): { dmatrix: number; booster: number } {
  return { ...liveHandles };
}

/** Throws XGBoostError with XGBoost's own message when a C call returned non-zero. */
export function check(rc: number, operation: string, context: string): void {
  if (rc === 0) return;
  const raw = (native().XGBGetLastError() as string | null) ?? '(XGBoost gave no message)';
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
  const result = new Float32Array(n);
  if (n > 0) memcpy(result, ptr, n * 4);
  return result;
}

const shapeScratch = new BigUint64Array(8);

/** Reads a `bst_ulong[n]` array (shapes) from XGBoost-owned memory. */
export function readShape(ptr: bigint, n: number): number[] {
  const shape = n <= shapeScratch.length ? shapeScratch : new BigUint64Array(n);
  if (n > 0) memcpy(shape, ptr, n * 8);
  const result: number[] = [];
  for (let i = 0; i < n; i++) result.push(Number(shape[i]));
  return result;
}

/** Copies `n` bytes out of XGBoost-owned memory. */
export function readBytes(ptr: bigint, n: number): Buffer {
  const result = Buffer.allocUnsafe(n);
  if (n > 0) memcpy(result, ptr, n);
  return result;
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
  native().XGBoostVersion(major, minor, patch);
  return `${major[0]}.${minor[0]}.${patch[0]}`;
}
