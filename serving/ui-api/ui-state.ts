// What the UI routes share in one server process: the instance, the run
// launcher, and views reused while the store has not changed (the graph view
// at 1,000 assets is computed once per change, not once per poll).
import { readFile } from 'node:fs/promises';
import type { AssetKey, EventRecord, Instance, JsonValue } from '../../runtime/index.ts';
import { readActivity, storeChangeToken, type Activity } from './activity.ts';
import { graphView, type GraphView } from './graph-view.ts';
import { RunLauncher } from './launcher.ts';
import { findPredictions, type PredictedHour } from './model-view.ts';

export class UiState {
  readonly launcher: RunLauncher;
  private activityCache: { token: string; value: Activity } | undefined;
  private readonly failedRunEvents = new Map<string, readonly EventRecord[]>();
  private graphCache: { token: string; value: GraphView } | undefined;
  private predictionsCache: { materializationId: number; hours: PredictedHour[] | undefined } | undefined;

  constructor(
    readonly instance: Instance<unknown>,
    options: { maxConcurrentRuns?: number; onRunError?: (runId: string, error: unknown) => void; clock?: () => Date } = {},
  ) {
    this.launcher = new RunLauncher(instance, options);
    this.clock = options.clock ?? (() => new Date());
  }

  readonly clock: () => Date;

  activity(): Activity {
    const token = storeChangeToken(this.instance.store);
    if (this.activityCache?.token !== token) this.activityCache = { token, value: readActivity(this.instance.store, this.failedRunEvents) };
    return this.activityCache.value;
  }

  graph(): GraphView {
    const now = this.clock();
    // Time-window partitions appear as the clock moves: the hour is part of the key.
    const token = `${storeChangeToken(this.instance.store)}@${Math.floor(now.getTime() / 3_600_000)}`;
    if (this.graphCache?.token !== token) this.graphCache = { token, value: graphView(this.instance, this.activity(), now) };
    return this.graphCache.value;
  }

  /** A backtest's forecast hours, from its metadata or its stored JSON value; read once per materialization. */
  async predictions(key: AssetKey, materializationId: number, metadata: JsonValue): Promise<PredictedHour[] | undefined> {
    if (this.predictionsCache?.materializationId === materializationId) return this.predictionsCache.hours;
    let hours = findPredictions(metadata);
    const m = this.instance.store.materialization(materializationId);
    if (!hours && m?.location && this.instance.graph.get(key).io === 'json') {
      const path = await this.instance.storage.localPath(m.location);
      hours = findPredictions(JSON.parse(await readFile(path, 'utf8')) as JsonValue);
    }
    this.predictionsCache = { materializationId, hours };
    return hours;
  }

  async close(): Promise<void> {
    await this.launcher.close();
  }
}
