// `materialize daemon`: ticks at an interval until stopped. A stop request (the first SIGTERM
// or SIGINT) lets the tick in progress finish, runs included, and exits before the next one;
// the caller may abort `runSignal` (a second signal) to cancel the runs in progress too.
//
// Definitions may depend on the clock when they load (a live source's partitions end at the
// day the configuration was read: "yesterday"). A process that ticks for weeks must see the
// days that came since, so between ticks the daemon opens the definitions again every
// `reopen.everyMs` (the CLI: hourly) and ticks on the new instance from then on; a reopen that
// fails is reported and the daemon goes on with the instance it has.
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';
import type { Instance } from '../instance.ts';
import { newDaemonId, runTick, type TickOptions, type TickResult } from './tick.ts';

export interface DaemonReopen {
  /** How long an instance serves before the definitions are opened again. */
  readonly everyMs: number;
  /** Loads the definitions and opens an instance on the same store (with the same executor). */
  open(): Promise<Instance<unknown>>;
}

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
  /** Opens the definitions again between ticks; without it the daemon keeps its first instance. */
  readonly reopen?: DaemonReopen;
  /** Told after each reopen: whether it succeeded, and if not why (the daemon goes on with the instance it has). */
  readonly onReopen?: (outcome: { readonly ok: true } | { readonly ok: false; readonly error: string }) => void;
  /** The clock; tests give one. */
  readonly clock?: () => Date;
}

/**
 * Ticks until `options.stop` aborts. `instance` stays the caller's to close; instances the
 * daemon opened itself (reopen) are closed by it when replaced and when it returns.
 */
export async function runDaemon(instance: Instance<unknown>, options: DaemonOptions): Promise<{ ticks: number; reopened: number }> {
  const daemonId = options.daemonId ?? newDaemonId();
  const now = (): number => options.clock?.().getTime() ?? Date.now();
  let current = instance;
  let openedAt = now();
  let ticks = 0;
  let reopened = 0;
  try {
    while (!options.stop.aborted) {
      const started = Date.now();
      if (options.reopen && now() - openedAt >= options.reopen.everyMs) {
        openedAt = now();
        try {
          const next = await options.reopen.open();
          if (current !== instance) await current.close();
          current = next;
          reopened++;
          options.onReopen?.({ ok: true });
        } catch (err) {
          options.onReopen?.({ ok: false, error: errorMessage(err) });
        }
      }
      try {
        const result = await runTick(current, { ...options, daemonId, now: options.clock?.(), signal: options.runSignal });
        ticks++;
        options.onTick?.(result);
      } catch (err) {
        options.onError?.(errorMessage(err));
      }
      const wait = Math.max(0, options.intervalMs - (Date.now() - started));
      await sleep(wait, undefined, { signal: options.stop }).catch(() => undefined);
    }
  } finally {
    if (current !== instance) await current.close();
  }
  return { ticks, reopened };
}
