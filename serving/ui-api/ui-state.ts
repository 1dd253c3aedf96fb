// What the UI routes share in one server process: the instance, the run
// launcher, one subscription to the store's changes (event streams wake on it), and
// views reused while the store has not changed (the graph view at 1,000 assets is
// computed once per change, not once per poll).
import { readFile } from 'node:fs/promises';
import {
  EMPTY_RUN_FOLD,
  foldRun,
  latestDeadline,
  pickCounts,
  runEventFromRecord,
  UNPARTITIONED,
  type AssetKey,
  type EventRecord,
  type Instance,
  type JsonValue,
  type RunProgressFold,
  type StoreChange,
} from '../../runtime/index.ts';
import { readActivity, type Activity } from './activity.ts';
import { graphView, type GraphView } from './graph-view.ts';
import { RunLauncher } from './launcher.ts';
import type { RunQueueSettings } from '../../runtime/settings.ts';
import { findPredictions, readBacktestView, type BacktestView, type PredictedHour } from './model-view.ts';
import type { RunProgress } from './runs-view.ts';

export class UiState {
  readonly launcher: RunLauncher;
  /** The clock statuses are computed at (time-window partitions depend on it); tests may fix it. */
  readonly clock: () => Date;
  private activityCache: { token: string; value: Activity } | undefined;
  private readonly failedRunEvents = new Map<string, readonly EventRecord[]>();
  private graphCache: { token: string; value: GraphView } | undefined;
  private valueCache: { materializationId: number; value: JsonValue | undefined } | undefined;
  private readonly folds = new Map<string, { fold: RunProgressFold; last: number }>();
  private readonly watchers = new Set<(change: StoreChange) => void>();
  /** The store subscription, opened with the first watcher (PostgreSQL: one LISTEN connection for the whole server). */
  private subscription: Promise<(() => Promise<void>) | undefined> | undefined;

  constructor(
    readonly instance: Instance<unknown>,
    options: { queue?: RunQueueSettings; onRunError?: (runId: string, error: unknown) => void; clock?: () => Date } = {},
  ) {
    this.launcher = new RunLauncher(instance, options);
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * Calls `listener` for every change any process commits to the store, until the returned
   * function is called. A stream of a run launched elsewhere (the CLI, the CronJob) wakes on it.
   */
  watchStore(listener: (change: StoreChange) => void): () => void {
    this.watchers.add(listener);
    this.subscription ??= this.instance.store
      .subscribe((change) => {
        for (const w of this.watchers) w(change);
      })
      .catch(() => undefined); // Without it, streams fall back on their own poll.
    return () => this.watchers.delete(listener);
  }

  /** Running steps and failures, re-read when the store changes. */
  async activity(): Promise<Activity> {
    const token = await this.instance.store.activityToken();
    if (this.activityCache?.token !== token) this.activityCache = { token, value: await readActivity(this.instance.store, this.failedRunEvents) };
    return this.activityCache.value;
  }

  /** The graph view and the token it was computed under (an ETag: same token, same view). */
  async graph(): Promise<GraphView> {
    return (await this.graphWithToken()).value;
  }

  async graphWithToken(): Promise<{ token: string; value: GraphView }> {
    const now = this.clock();
    // Time-window partitions appear as the clock moves: the hour is part of the key; a
    // freshness verdict changes when a deadline passes: the latest passed deadline is too.
    const token = `${await this.instance.store.activityToken()}@${Math.floor(now.getTime() / 3_600_000)}@${latestDeadline(this.instance.graph, now)}`;
    if (this.graphCache?.token !== token) this.graphCache = { token, value: await graphView(this.instance, await this.activity(), now) };
    return this.graphCache;
  }

  /**
   * The stored value of a json asset's materialization, parsed; kept for the last one asked,
   * since a backtest's value (every forecast hour) is read for each chart the page draws.
   */
  async storedJson(key: AssetKey, materializationId: number): Promise<JsonValue | undefined> {
    if (this.valueCache?.materializationId === materializationId) return this.valueCache.value;
    const m = await this.instance.store.materialization(materializationId);
    let value: JsonValue | undefined;
    if (m?.location && this.instance.graph.get(key).io === 'json') {
      value = JSON.parse(await readFile(await this.instance.storage.localPath(m.location), 'utf8')) as JsonValue;
    }
    this.valueCache = { materializationId, value };
    return value;
  }

  /** A backtest keeps its summary in metadata and its full report (by hour, by node) in its value: the full one when it can be read. */
  async fullBacktest(key: AssetKey, materializationId: number, fromMetadata: BacktestView): Promise<BacktestView> {
    const value = await this.storedJson(key, materializationId);
    const report = value && typeof value === 'object' && !Array.isArray(value) ? (value.report ?? value) : undefined;
    const full = report && typeof report === 'object' && !Array.isArray(report) ? readBacktestView(report) : undefined;
    return full ?? fromMetadata;
  }

  /** The backtest of another unpartitioned asset of `key`'s group (the model's evaluation), if one has a current version. */
  async groupBacktest(key: AssetKey): Promise<{ asset: string; view: BacktestView } | undefined> {
    const { graph, store } = this.instance;
    const group = graph.get(key).group;
    for (const other of graph.keys()) {
      if (other === key || graph.get(other).group !== group || graph.get(other).partitions) continue;
      const current = await store.current(other, UNPARTITIONED);
      const metadata = current ? (await store.materialization(current.id))?.metadata : undefined;
      const view = metadata ? readBacktestView(metadata) : undefined;
      if (current && view) return { asset: other, view: await this.fullBacktest(other, current.id, view) };
    }
    return undefined;
  }

  /** A backtest's forecast hours, from its stored JSON value (where pjm/backtest writes them). */
  async predictions(key: AssetKey, materializationId: number): Promise<PredictedHour[] | undefined> {
    return findPredictions(await this.storedJson(key, materializationId));
  }

  /**
   * A run's progress, folded incrementally: events are append-only, so only those after
   * the last one folded are read (a backfill run holds 100,000 events).
   */
  async progress(runId: string): Promise<RunProgress> {
    let entry = this.folds.get(runId);
    if (!entry) {
      // Keep the folds of the latest runs only.
      if (this.folds.size >= 50) this.folds.delete(this.folds.keys().next().value!);
      this.folds.set(runId, (entry = { fold: EMPTY_RUN_FOLD, last: 0 }));
    }
    for (;;) {
      const batch = await this.instance.store.events(runId, { afterId: entry.last, limit: 10_000 });
      entry.fold = foldRun(batch.map(runEventFromRecord), entry.fold);
      if (batch.length > 0) entry.last = batch[batch.length - 1]!.id;
      if (batch.length < 10_000) return pickCounts(entry.fold);
    }
  }

  async close(): Promise<void> {
    await this.launcher.close();
    this.watchers.clear();
    const stop = await this.subscription;
    await stop?.();
  }
}
