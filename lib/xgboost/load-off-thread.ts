// Parses serialized models into Boosters in a worker thread (see load-worker.ts) and hands
// them to the caller on the main thread, in the order given.
import { Worker } from 'node:worker_threads';
import { workerSource } from '../code-location.ts';
import { Booster } from './booster.ts';
import type { LoadMessage, ModelBytes } from './load-worker.ts';
import { native } from './native.ts';

export type { ModelBytes } from './load-worker.ts';

export function loadBoostersOffThread(models: readonly ModelBytes[]): Promise<Booster[]> {
  // The library is loaded here first, on the main thread, with the configured OpenMP policy
  // (config.ts): the worker then only binds the functions of the library the process holds.
  native();
  const bootstrap = workerSource('lib/xgboost/load-worker');
  return new Promise<Booster[]>((resolve, reject) => {
    const worker = new Worker(bootstrap, { eval: true, workerData: models });
    let settled = false;
    worker.once('message', (m: LoadMessage) => {
      settled = true;
      if (m.kind === 'done') resolve(m.handles.map((h) => Booster.fromHandle(h)));
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
