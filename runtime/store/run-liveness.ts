// Whether a run recorded as running is still being run: the one rule by which both stores
// close abandoned runs and prune leaves a live run's scratch directory alone.
import { hostname } from 'node:os';
import type { RunRecord } from './records.ts';

/**
 * Whether a run recorded as running is still being run: its heartbeat is recent and, when it
 * ran on this host, its process exists. The rule closeAbandonedRuns closes runs by.
 */
export function runIsLive(run: Pick<RunRecord, 'status' | 'host' | 'pid' | 'heartbeatAt'>, now: number, staleAfterMs: number): boolean {
  if (run.status !== 'running' || run.heartbeatAt < now - staleAfterMs) return false;
  return run.host !== hostname() || run.pid === process.pid || processAlive(run.pid);
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
