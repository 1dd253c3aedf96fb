// The worker-thread side of loadBoostersOffThread: parses serialized models (XGBoost JSON or
// UBJ) into native boosters off the main event loop (a 1,000-round model takes ~200 ms to
// parse, time in which a server would answer nothing). The handles go back to the main
// thread, which owns them from then on; on failure they are freed here. All calls of one load
// run on this thread, so XGBoost's thread-local error message stays readable.
import { parentPort, workerData } from 'node:worker_threads';
import { check, native, out } from './native.ts';

/** One serialized model and the name its errors give it ("member a.json of /data/model.bundle"). */
export interface ModelBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export type LoadMessage = { readonly kind: 'done'; readonly handles: readonly bigint[] } | { readonly kind: 'error'; readonly message: string };

function load(models: readonly ModelBytes[]): LoadMessage {
  const handles: bigint[] = [];
  try {
    for (const { name, bytes } of models) {
      check(native().XGBoosterCreate(null, 0, out.ptr), 'XGBoosterCreate', `loading ${name}`);
      const handle = out.ptr[0]!;
      handles.push(handle);
      check(native().XGBoosterLoadModelFromBuffer(handle, bytes, bytes.length), 'XGBoosterLoadModelFromBuffer', `loading ${name}`);
    }
  } catch (err) {
    for (const h of handles) native().XGBoosterFree(h);
    throw err;
  }
  return { kind: 'done', handles };
}

let message: LoadMessage;
try {
  message = load(workerData as readonly ModelBytes[]);
} catch (err) {
  message = { kind: 'error', message: (err as Error).message };
}
parentPort!.postMessage(message);
