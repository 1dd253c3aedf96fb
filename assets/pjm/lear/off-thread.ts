// LEAR's fits for the backtest and the served model in worker threads, started before the
// XGBoost retrains so the two run beside each other instead of LEAR after them (the ensemble's
// default run took 204 s against XGBoost's 108 s that way, 2026-12-03). One job fits each
// window once for every walk-forward refit and once on its latest days for pjm/model, which
// then bundles those fits instead of fitting them again.
import { Worker } from 'node:worker_threads';
import { workerSource } from '../../../lib/code-location.ts';
import type { LearOptions } from '../../../lib/lear/index.ts';
import type { NodePanel } from './features-panel.ts';
import { fitServedLearOnPanels, type LearArtifact } from './served.ts';
import { intervalsOf, learWalkForwardOnPanels, type LearTableRun, type LearTableRunOptions } from './walk-forward.ts';

export interface LearJob {
  readonly panels: readonly NodePanel[];
  /** The backtest's walk-forward (target days, windows, refit interval). */
  readonly walkForward: Omit<LearTableRunOptions, 'signal' | 'options'>;
  /** Also fit the served model on each window's latest whole days (fitServedLear). */
  readonly served: boolean;
  readonly options?: LearOptions;
}

export interface LearJobResult {
  readonly run: LearTableRun;
  readonly served: LearArtifact | null;
  /** Seconds the served fit took (in its worker). */
  readonly servedSeconds: number;
}

export type LearJobMessage = { readonly kind: 'done'; readonly result: LearJobResult } | { readonly kind: 'error'; readonly message: string };

/** The job itself, on whichever thread calls it (the worker, or a test). */
export function runLearJob(job: LearJob): LearJobResult {
  const run = learWalkForwardOnPanels(job.panels, { ...job.walkForward, options: job.options });
  const started = performance.now();
  const served = job.served ? fitServedLearOnPanels(job.panels, job.walkForward.windows, job.options) : null;
  return { run, served, servedSeconds: (performance.now() - started) / 1000 };
}

/**
 * Runs the job in `workers` worker threads (default 1), each over a stretch of the target days
 * that starts on a refit day, so the fits are the ones one thread would make; the last stretch
 * (never longer than the others) also makes the served fit. With two stretches LEAR keeps both
 * cores busy once the retrains are done, instead of one (for costlier windows or intervals). (Where a window is not whole on a
 * stretch's first day, for missing data, that stretch has no forecast from it until it is, where
 * one thread would keep its last fit.) The promise settles when every stretch is done, fails
 * with the first worker's error, or rejects when `signal` aborts (the workers are terminated).
 */
export async function runLearOffThread(job: LearJob, options: { readonly workers?: number; readonly signal?: AbortSignal } = {}): Promise<LearJobResult> {
  const { firstDay, lastDay, windows, every } = job.walkForward;
  // Stretches start on a day every window refits on: a multiple of each interval.
  const period = intervalsOf(windows, every).reduce(lcm, 1);
  const stretches = stretchesOf(firstDay, lastDay, period, options.workers ?? DEFAULT_LEAR_WORKERS);
  // One failed stretch stops the others.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const parts = await Promise.all(
    stretches.map(([a, b], k) =>
      runInWorker({ ...job, walkForward: { ...job.walkForward, firstDay: a, lastDay: b }, served: job.served && k === stretches.length - 1 }, signal).catch(
        (err: unknown) => {
          stop.abort(err);
          throw err;
        },
      ),
    ),
  );
  const cwa = new Map<string, Float64Array>();
  const byWindow = job.walkForward.windows.map(() => new Map<string, Float64Array>());
  for (const p of parts) {
    for (const [k, v] of p.run.cwa) cwa.set(k, v);
    p.run.byWindow.forEach((m, w) => {
      for (const [k, v] of m) byWindow[w]!.set(k, v);
    });
  }
  return {
    run: {
      cwa,
      byWindow,
      missingDays: parts.reduce((s, p) => s + p.run.missingDays, 0),
      fits: parts.reduce((s, p) => s + p.run.fits, 0),
      seconds: Math.max(...parts.map((p) => p.run.seconds)),
    },
    served: parts[parts.length - 1]!.served,
    servedSeconds: parts[parts.length - 1]!.servedSeconds,
  };
}

/**
 * [first, last] cut into up to `n` stretches of about as many periods of `every` days each,
 * every one starting a whole number of periods after `first` (a day every window refits on
 * when `every` is a multiple of each window's interval), so each stretch's refit schedule is
 * the whole run's.
 */
export function stretchesOf(first: number, last: number, every: number, n: number): Array<[number, number]> {
  const refits = Math.ceil((last - first + 1) / every);
  const per = Math.ceil(refits / Math.max(1, Math.min(n, refits)));
  const out: Array<[number, number]> = [];
  for (let r = 0; r < refits; r += per) out.push([first + r * every, Math.min(last, first + (r + per) * every - 1)]);
  return out;
}

/**
 * Worker threads by default: one. The default windows' fits (117 in 22-26 s on the bundled data,
 * 2026-12-03) end well within the XGBoost retrains they run beside, and a second worker only
 * adds memory (the default run peaked at 1,038 MiB with two, 953 MiB with one).
 */
export const DEFAULT_LEAR_WORKERS = 1;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a / gcd(a, b)) * b;

function runInWorker(job: LearJob, signal?: AbortSignal): Promise<LearJobResult> {
  signal?.throwIfAborted();
  return new Promise<LearJobResult>((resolve, reject) => {
    const worker = new Worker(workerSource('assets/pjm/lear/lear-worker'), {
      eval: true,
      workerData: job,
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = () => settle(() => reject(signal!.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (m: LearJobMessage) =>
      settle(() => (m.kind === 'done' ? resolve(m.result) : reject(new Error(`LEAR's fits (worker thread): ${m.message}`)))),
    );
    worker.once('error', (err) => settle(() => reject(err)));
    worker.once('exit', (code) => settle(() => reject(new Error(`LEAR's worker thread exited with code ${code} before answering.`))));
  });
}
