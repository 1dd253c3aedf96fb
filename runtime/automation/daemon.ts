// `materialize daemon`: ticks at an interval until stopped. A stop request (the first SIGTERM
// or SIGINT) lets the tick in progress finish, runs included, and exits before the next one;
// the caller may abort `runSignal` (a second signal) to cancel the runs in progress too.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';
import type { Instance } from '../instance.ts';
import { newDaemonId, runTick, type TickOptions, type TickResult } from './tick.ts';

export interface DaemonOptions extends Omit<TickOptions, 'now' | 'signal' | 'daemonId'> {
  readonly intervalMs: number;
  readonly daemonId?: string;
  /** Stops the loop between ticks. */
  readonly stop: AbortSignal;
  /** Cancels the runs of the tick in progress. */
  readonly runSignal?: AbortSignal;
  readonly onTick?: (result: TickResult) => void;
  /** A tick that failed (the store unreachable): logged, and the daemon tries again next interval. */
  readonly onError?: (message: string) => void;
  /** The clock; tests give one. */
  readonly clock?: () => Date;
}

export async function runDaemon(instance: Instance<unknown>, options: DaemonOptions): Promise<{ ticks: number }> {
  const daemonId = options.daemonId ?? newDaemonId();
  let ticks = 0;
  while (!options.stop.aborted) {
    const started = Date.now();
    try {
      const result = await runTick(instance, { ...options, daemonId, now: options.clock?.(), signal: options.runSignal });
      ticks++;
      options.onTick?.(result);
    } catch (err) {
      options.onError?.(errorMessage(err));
    }
    const wait = Math.max(0, options.intervalMs - (Date.now() - started));
    await sleep(wait, undefined, { signal: options.stop }).catch(() => undefined);
  }
  return { ticks };
}
