// The worker-thread side of runLearOffThread (off-thread.ts): LEAR's walk-forward over the
// backtest's test days and the served fit on each window's latest days, for the panels it is
// given, posted back once; its fits are synchronous CPU work that would otherwise hold the main
// thread (and the XGBoost retrains waiting on it) for a minute.
import { parentPort, workerData } from 'node:worker_threads';
import { runLearJob, type LearJob, type LearJobMessage } from './off-thread.ts';

let message: LearJobMessage;
try {
  message = { kind: 'done', result: runLearJob(workerData as LearJob) };
} catch (err) {
  message = { kind: 'error', message: (err as Error).message };
}
parentPort!.postMessage(message);
