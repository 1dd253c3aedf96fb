// The worker-thread side of loading a model: reads the `pjm/model` bundle file (every
// ensemble member's XGBoost JSON, assets/pjm/model-bundle.ts) and parses each member into
// a native booster off the main event loop (a 1,000-round member takes ~200 ms to parse,
// time in which the server would answer nothing). The handles go back to the main
// thread, which owns them from then on; on failure they are freed here. All calls of one
// load run on this thread, so XGBoost's thread-local error message stays readable.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { check, native, out } from '../../lib/xgboost/native.ts';
import { decodeModelBundle } from '../../assets/pjm/model-bundle.ts';

export interface LoadJob {
  readonly path: string;
  /** Member file names, in the sidecar's order. */
  readonly files: readonly string[];
  /** Other files of the bundle to hand back as bytes (a served model's LEAR members). */
  readonly otherFiles?: readonly string[];
}

export type LoadMessage =
  | { readonly kind: 'done'; readonly handles: readonly bigint[]; readonly others: readonly { readonly file: string; readonly bytes: Uint8Array }[] }
  | { readonly kind: 'error'; readonly message: string };

function load(job: LoadJob): LoadMessage {
  const members = decodeModelBundle(readFileSync(job.path), job.path);
  const handles: bigint[] = [];
  const others = (job.otherFiles ?? []).map((file) => {
    const bytes = members.get(file);
    if (bytes === undefined) throw new Error(`the bundle ${job.path} has no file ${file} (it has ${[...members.keys()].join(', ') || 'none'})`);
    return { file, bytes: Uint8Array.from(bytes) };
  });
  try {
    for (const file of job.files) {
      const bytes = members.get(file);
      if (bytes === undefined) throw new Error(`the bundle ${job.path} has no member ${file} (it has ${[...members.keys()].join(', ') || 'none'})`);
      check(native.XGBoosterCreate(null, 0, out.ptr), 'XGBoosterCreate', `loading ${file}`);
      const handle = out.ptr[0]!;
      handles.push(handle);
      check(native.XGBoosterLoadModelFromBuffer(handle, bytes, bytes.length), 'XGBoosterLoadModelFromBuffer', `loading member ${file} of ${job.path}`);
    }
  } catch (err) {
    for (const h of handles) native.XGBoosterFree(h);
    throw err;
  }
  return { kind: 'done', handles, others };
}

let message: LoadMessage;
try {
  message = load(workerData as LoadJob);
} catch (err) {
  message = { kind: 'error', message: (err as Error).message };
}
parentPort!.postMessage(message);
