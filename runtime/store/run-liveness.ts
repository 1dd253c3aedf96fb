// Whether a run recorded as running is still being run: the one rule by which both stores
// close abandoned runs and prune leaves a live run's scratch directory alone.
import { hostname } from 'node:os';
import type { RunRecord } from './records.ts';
import { QUEUE_HEARTBEAT_MS, QUEUE_STALE_AFTER_MS, type QueuedRunRecord } from './run-queue-records.ts';

/**
 * Whether a run recorded as running is still being run: its heartbeat is recent and, when it
 * ran on this host, its process exists. The rule closeAbandonedRuns closes runs by.
 */
export function runIsLive(run: Pick<RunRecord, 'status' | 'host' | 'pid' | 'heartbeatAt'>, now: number, staleAfterMs: number): boolean {
  if (run.status !== 'running' || run.heartbeatAt < now - staleAfterMs) return false;
  return run.host !== hostname() || run.pid === process.pid || processAlive(run.pid);
}

/**
 * Why a queued row's process is gone, or undefined while it lives: on this host, a process that
 * no longer exists (the process table is the surer test there); on another host, one whose last
 * heartbeat is older than QUEUE_STALE_AFTER_MS. The rule claims cancel queued rows by. `now` is
 * the store's clock, which also stamped the heartbeat (never a caller's: hosts' clocks differ).
 */
export function deadQueueOwner(row: Pick<QueuedRunRecord, 'ownerHost' | 'ownerPid' | 'heartbeatAt'>, now: number): string | undefined {
  const here = hostname();
  if (row.ownerHost === here) {
    return row.ownerPid === process.pid || processAlive(row.ownerPid)
      ? undefined
      : `canceled: the process that queued it (pid ${row.ownerPid} on ${here}) has exited, and only it could start it`;
  }
  const silentMs = now - row.heartbeatAt;
  if (silentMs > QUEUE_STALE_AFTER_MS) {
    return `canceled: the process that queued it (pid ${row.ownerPid} on ${row.ownerHost}) has sent no heartbeat for ${Math.round(silentMs / 1000)} s (a waiting process heartbeats every ${QUEUE_HEARTBEAT_MS / 1000} s; after ${QUEUE_STALE_AFTER_MS / 1000} s it is taken for dead), and only it could start it`;
  }
  return undefined;
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
