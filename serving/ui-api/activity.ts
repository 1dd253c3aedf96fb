// "What is happening right now": which asset partitions a live run is
// materializing, and which ones failed on their latest attempt. The runtime's
// staleness answers FRESH / STALE / MISSING from current versions alone; the UI
// also shows RUNNING and FAILED, which only the run and event records know.
import {
  STEP_END_TYPES,
  type AssetKey,
  type EventRecord,
  type LineageStore,
  type PartitionKey,
  type RunEventType,
  type RunRecord,
} from '../../runtime/index.ts';

export interface Failure {
  readonly runId: string;
  readonly ts: number;
  /** 'failed' (the step threw) or 'blocked' (a blocking check failed). */
  readonly kind: 'failed' | 'blocked';
  readonly message: string;
}

export interface Activity {
  /** Partitions a running run has started and not yet finished. */
  readonly running: ReadonlyMap<AssetKey, ReadonlySet<PartitionKey>>;
  /** The latest failed or blocked attempt per partition, from recent runs; whether it still counts depends on the current version. */
  readonly failures: ReadonlyMap<AssetKey, ReadonlyMap<PartitionKey, Failure>>;
  readonly activeRuns: readonly RunRecord[];
}

/** How many of the latest runs are searched for failures: older failures have almost always been superseded. */
const RECENT_RUNS = 30;

/** The executor beats every 10 s (a third of its 30 s lease); three missed beats mean the process is gone. */
const HEARTBEAT_STALE_MS = 90_000;

/** Folds one run's events into the running set and failures (pure, for tests). */
export function foldRunEvents(
  events: readonly EventRecord[],
  into: { running?: Map<AssetKey, Set<PartitionKey>>; failures: Map<AssetKey, Map<PartitionKey, Failure>> },
): void {
  for (const e of events) {
    if (e.asset === null) continue;
    const asset = e.asset as AssetKey;
    const partition = e.partition ?? '';
    if (into.running && e.type === 'step_started') {
      let set = into.running.get(asset);
      if (!set) into.running.set(asset, (set = new Set()));
      set.add(partition);
    } else if (STEP_END_TYPES.has(e.type)) {
      into.running?.get(asset)?.delete(partition);
    }
    if (e.type === 'step_failed' || e.type === 'step_blocked') {
      let byPartition = into.failures.get(asset);
      if (!byPartition) into.failures.set(asset, (byPartition = new Map()));
      const previous = byPartition.get(partition);
      if (!previous || previous.ts <= e.ts) {
        // The bare error (or check message) reads better in a cause sentence than the log line.
        const detail = e.type === 'step_failed' ? e.data?.error : e.data?.message;
        byPartition.set(partition, {
          runId: e.runId,
          ts: e.ts,
          kind: e.type === 'step_failed' ? 'failed' : 'blocked',
          message: typeof detail === 'string' ? detail : e.message,
        });
      }
    }
  }
}

const STEP_EVENT_TYPES: readonly RunEventType[] = ['step_started', 'step_materialized', 'step_failed', 'step_blocked', 'step_skipped'];

/** Reads the activity; a finished run's failures never change, so they are kept in `finishedCache` by run id. */
export async function readActivity(store: LineageStore, finishedCache: Map<string, readonly EventRecord[]> = new Map()): Promise<Activity> {
  const running = new Map<AssetKey, Set<PartitionKey>>();
  const failures = new Map<AssetKey, Map<PartitionKey, Failure>>();
  // A run whose process died (killed, machine lost) stays 'running' in the store until the next
  // run closes it; without a recent heartbeat its steps are not shown as running.
  const aliveSince = Date.now() - HEARTBEAT_STALE_MS;
  const activeRuns = (await store.listRuns({ status: 'running', limit: 20 })).filter((r) => r.heartbeatAt >= aliveSince);
  for (const events of await Promise.all(activeRuns.map((run) => store.events(run.id, { types: STEP_EVENT_TYPES }))))
    foldRunEvents(events, { running, failures });
  const activeIds = new Set(activeRuns.map((r) => r.id));
  const recentFailed = (await store.listRuns({ status: 'failed', limit: RECENT_RUNS })).filter((r) => !activeIds.has(r.id));
  // Read in parallel, folded in the order listed (the newest failure of a partition wins either way: folding compares times).
  const failedEvents = await Promise.all(
    recentFailed.map(async (run) => {
      let events = finishedCache.get(run.id);
      if (!events) finishedCache.set(run.id, (events = await store.events(run.id, { types: ['step_failed', 'step_blocked'] })));
      return events;
    }),
  );
  for (const events of failedEvents) foldRunEvents(events, { failures });
  // Forget runs that fell out of the recent window.
  const recentIds = new Set(recentFailed.map((r) => r.id));
  for (const id of finishedCache.keys()) if (!recentIds.has(id)) finishedCache.delete(id);
  for (const [asset, set] of running) if (set.size === 0) running.delete(asset);
  return { running, failures, activeRuns };
}
