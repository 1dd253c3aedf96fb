// Parses the members of a model bundle into Boosters in a worker thread (see
// load-worker.ts) and hands them to the caller on the main thread, in the order asked, with
// the bytes of any other bundle files asked for (a served model's LEAR members).
import { Worker } from 'node:worker_threads';
import { Booster } from '../../lib/xgboost/index.ts';
import { workerSource } from '../../lib/code-location.ts';
import type { LoadJob, LoadMessage } from './load-worker.ts';

export interface LoadedBundle {
  readonly boosters: Booster[];
  /** File name -> bytes of each of `otherFiles`. */
  readonly others: ReadonlyMap<string, Uint8Array>;
}

export function loadBoostersOffThread(path: string, files: readonly string[], otherFiles: readonly string[] = []): Promise<LoadedBundle> {
  const bootstrap = workerSource(import.meta.url, 'load-worker');
  const job: LoadJob = { path, files, otherFiles };
  return new Promise<LoadedBundle>((resolve, reject) => {
    const worker = new Worker(bootstrap, { eval: true, workerData: job });
    let settled = false;
    worker.once('message', (m: LoadMessage) => {
      settled = true;
      if (m.kind === 'done') resolve({ boosters: m.handles.map((h) => Booster.fromHandle(h)), others: new Map(m.others.map((o) => [o.file, o.bytes])) });
      else reject(new Error(m.message));
      void worker.terminate();
    });
    worker.once('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the model-loading worker exited with code ${code} before answering`));
      settled = true;
    });
  });
}
