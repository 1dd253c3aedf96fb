// An Instance ties one Definitions object to its lineage store and storage:
// what the CLI, the server, the UI and the tests open to ask "what is the state"
// and to run materializations.
import { resolve } from 'node:path';
import type { Definitions } from './definitions.ts';
import type { ExecuteOptions } from './executor.ts';
import { AssetGraph } from './graph.ts';
import { freshnessOf, type AssetFreshness } from './automation/freshness.ts';
import type { AssetKey } from './keys.ts';
import { snapshotView, StalenessResolver, summarizeAsset, type AssetStatusSummary } from './staleness.ts';
import type { LineageStore } from './store/lineage-store-api.ts';
import { dataDirSetting, type RuntimeSettings } from './settings.ts';
import { openLineageStore, storeTargetFromEnv } from './store/open-store.ts';
import { storageFromSettings, storageSettingsFromEnv } from './storage/from-env.ts';
import type { Storage } from './storage/storage.ts';
import { resolveSelection } from './selection.ts';

export interface InstanceOptions {
  /**
   * The process's settings (loadRuntimeSettings), as the CLI and the server read them at start:
   * the data root, storage and lineage store the options below leave out come from them.
   * Without them, what is left out is read from the environment here, once, by the same
   * loader's functions (runtime/settings.ts).
   */
  readonly settings?: Pick<RuntimeSettings, 'dataDir' | 'storage' | 'store'>;
  /** Root of the store and local asset files. Default: the settings' (--data-dir, $DATA_DIR, else ./data). */
  readonly dataDir?: string;
  /** Storage backend; default from the settings' STORAGE and S3_* (see storage/from-env.ts): local files under `<dataDir>/assets` unless STORAGE=s3. */
  readonly storage?: Storage;
  /**
   * Lineage store; default from the settings' LINEAGE_STORE (see store/open-store.ts): the SQLite
   * file under `<dataDir>/store` unless it names a PostgreSQL URL.
   */
  readonly store?: LineageStore;
}

/** An asset's status summary and, when it declares a deadline, whether its data is on time. */
export interface AssetStatus extends AssetStatusSummary {
  readonly freshness?: AssetFreshness;
}

export class Instance<R = unknown> {
  #workers: ExecuteOptions['workers'];

  private constructor(
    readonly definitions: Definitions<R>,
    readonly graph: AssetGraph<R>,
    readonly dataDir: string,
    readonly store: LineageStore,
    readonly storage: Storage,
  ) {}

  static async open<R>(definitions: Definitions<R>, options: InstanceOptions = {}): Promise<Instance<R>> {
    // Check the graph and the storage configuration before touching the disk:
    // a bad definition or a bad STORAGE fails fast and creates nothing.
    const graph = new AssetGraph(definitions);
    const settings = options.settings;
    const dataDir = options.dataDir !== undefined ? resolve(options.dataDir) : (settings?.dataDir ?? dataDirSetting(process.env).dataDir);
    const storage = options.storage ?? storageFromSettings(settings?.storage ?? storageSettingsFromEnv(process.env), dataDir);
    const store = options.store ?? (await openLineageStore(settings?.store ?? storeTargetFromEnv(process.env, dataDir)));
    return new Instance(definitions, graph, dataDir, store, storage);
  }

  /**
   * Where runs started through this instance run their steps when the request names no
   * launcher: in this process (undefined, the default) or on the worker pool behind this queue.
   * The CLI sets it from EXECUTOR for every command that runs (materialize, tick, daemon), so
   * automation's runs honour it too.
   */
  get workers(): ExecuteOptions['workers'] {
    return this.#workers;
  }

  useWorkers(workers: ExecuteOptions['workers']): void {
    this.#workers = workers;
  }

  /** A staleness resolver over a fresh snapshot of the store. */
  async resolver(now: Date = new Date(), assets?: readonly AssetKey[]): Promise<StalenessResolver> {
    // A snapshot of the selected assets and everything upstream of them (their statuses depend on it).
    let scope: AssetKey[] | undefined;
    if (assets && assets.length < this.graph.size) {
      const set = new Set<AssetKey>();
      for (const a of assets) {
        set.add(a);
        for (const u of this.graph.ancestors(a)) set.add(u);
      }
      scope = [...set];
    }
    const [snapshot, dynamic] = await Promise.all([this.store.snapshot(scope), this.store.dynamicPartitionKeys()]);
    return new StalenessResolver(this.graph, snapshotView(snapshot), now, { dynamic });
  }

  /** Status summaries of the selected assets (all when no selection), in topological order, with freshness where declared. */
  async status(selection?: string, now: Date = new Date()): Promise<AssetStatus[]> {
    const assets = resolveSelection(this.graph, selection);
    const resolver = await this.resolver(now, assets);
    const freshness = new Map(freshnessOf(this.graph, resolver.view, now, assets).map((f) => [f.asset, f]));
    return assets.map((a) => {
      const f = freshness.get(a);
      return f ? { ...summarizeAsset(resolver, a), freshness: f } : summarizeAsset(resolver, a);
    });
  }

  /** The deadline verdict of every asset that declares freshness, over a snapshot of those assets only. */
  async freshness(now: Date = new Date()): Promise<AssetFreshness[]> {
    const assets = this.graph.keys().filter((a) => this.graph.get(a).freshness !== undefined);
    if (assets.length === 0) return [];
    return freshnessOf(this.graph, snapshotView(await this.store.snapshot(assets)), now, assets);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
