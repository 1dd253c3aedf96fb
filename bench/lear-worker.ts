// Worker thread of bench/epf-lear.ts: runs LEAR's daily walk-forward over one contiguous chunk
// of target days (every calibration window) and posts the forecasts back.
import { parentPort, workerData } from 'node:worker_threads';
import { readEpftoolboxPanel } from '../assets/pjm/lear/epftoolbox-panel.ts';
import { learWalkForward, type LearOptions } from '../lib/lear/index.ts';

export interface LearChunkJob {
  readonly csvPath: string;
  readonly firstDay: number;
  readonly lastDay: number;
  readonly windows: readonly number[];
  readonly options: LearOptions;
}

const job = workerData as LearChunkJob;
const panel = readEpftoolboxPanel(job.csvPath);
const result = learWalkForward({
  panel,
  firstDay: job.firstDay,
  lastDay: job.lastDay,
  windows: job.windows,
  options: job.options,
  onDay: (_d, done) => parentPort!.postMessage({ kind: 'progress', done }),
});
parentPort!.postMessage({ kind: 'done', byWindow: result.byWindow, alphas: result.alphas, seconds: result.seconds });
