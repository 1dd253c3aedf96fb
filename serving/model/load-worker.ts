// The worker-thread side of loading a model: reads an XGBoost model file and parses it
// into a native booster off the main event loop (a 1,000-round model takes ~200 ms to
// parse, time in which the server would answer nothing). The handle goes back to the
// main thread, which owns it from then on; on failure it is freed here. All calls of one
// load run on this thread, so XGBoost's thread-local error message stays readable.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { check, native, out } from '../../assets/xgboost/native.ts';

export interface LoadJob {
  readonly path: string;
}

export type LoadMessage = { readonly kind: 'done'; readonly handle: bigint } | { readonly kind: 'error'; readonly message: string };

function load(job: LoadJob): LoadMessage {
  const bytes = readFileSync(job.path);
  if (bytes.length === 0) return { kind: 'error', message: `the model file ${job.path} is empty` };
  check(native.XGBoosterCreate(null, 0, out.ptr), 'XGBoosterCreate', `loading ${job.path}`);
  const handle = out.ptr[0]!;
  try {
    check(native.XGBoosterLoadModelFromBuffer(handle, bytes, bytes.length), 'XGBoosterLoadModelFromBuffer', `loading ${job.path}`);
  } catch (err) {
    native.XGBoosterFree(handle);
    throw err;
  }
  return { kind: 'done', handle };
}

let message: LoadMessage;
try {
  message = load(workerData as LoadJob);
} catch (err) {
  message = { kind: 'error', message: (err as Error).message };
}
parentPort!.postMessage(message);
