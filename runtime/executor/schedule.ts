// "Which ready unit starts next": runs units once their upstream units have finished, at most
// `concurrency` at a time and one at a time per pool (an asset's `pool`, such as a rate-limited
// API), until every unit has finished. Where a unit runs is the launcher's business
// (launcher.ts): in this process, or on a worker.
import type { AssetGraph } from '../graph.ts';
import type { Unit } from './units.ts';

export interface ScheduleOptions {
  readonly concurrency: number;
  /** True once the run stopped (a full disk): the rest is started at once, to be counted as canceled. */
  readonly stopped: () => boolean;
  /** Runs one unit; every unit ends (resolves or rejects) before its dependents start. */
  readonly run: (unit: Unit) => Promise<void>;
  /** Called when `run` rejected: the unit's steps that have no result yet are to be recorded failed. */
  readonly onError: (unit: Unit, err: unknown) => void;
}

export function schedule(graph: AssetGraph<unknown>, units: readonly Unit[], options: ScheduleOptions): Promise<void> {
  const ready: Unit[] = units.filter((u) => u.pending === 0);
  const busyPools = new Set<string>();
  let running = 0;
  return new Promise<void>((resolveAll) => {
    let remaining = units.length;
    if (remaining === 0) return resolveAll();
    const finish = (unit: Unit): void => {
      running--;
      remaining--;
      for (const d of unit.dependents) if (--d.pending === 0) ready.push(d);
      if (remaining === 0) resolveAll();
      else pump();
    };
    const pump = (): void => {
      for (let k = 0; (running < options.concurrency || options.stopped()) && k < ready.length; ) {
        const unit = ready[k]!;
        const pool = graph.get(unit.asset).pool;
        if (pool !== undefined && busyPools.has(pool)) {
          k++; // its pool is busy: leave it queued, try the next ready unit
          continue;
        }
        ready.splice(k, 1);
        if (pool !== undefined) busyPools.add(pool);
        running++;
        options.run(unit).then(
          () => {
            if (pool !== undefined) busyPools.delete(pool);
            finish(unit);
          },
          (err: unknown) => {
            if (pool !== undefined) busyPools.delete(pool);
            options.onError(unit, err);
            finish(unit);
          },
        );
      }
    };
    pump();
  });
}
