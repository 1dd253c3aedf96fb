// An Instance ties one Definitions object to its lineage store and storage:
// what the CLI, the server, the UI and the tests open to ask "what is the state"
// and to run materializations.
import { join, resolve } from 'node:path';
import type { Definitions } from './definitions.ts';
import { AssetGraph } from './graph.ts';
import type { AssetKey } from './keys.ts';
import { snapshotView, StalenessResolver, summarizeAsset, type AssetStatusSummary } from './staleness.ts';
import { LineageStore } from './store/lineage-store.ts';
import { storageFromEnv } from './storage/from-env.ts';
import type { Storage } from './storage/storage.ts';
import { resolveSelection } from './selection.ts';

export interface InstanceOptions {
  /** Root of the store and local asset files. Default: $DATA_DIR, else ./data. */
  readonly dataDir?: string;
  /** Storage backend; default from STORAGE and S3_* (see storage/from-env.ts): local files under `<dataDir>/assets` unless STORAGE=s3. */
  readonly storage?: Storage;
}

export class Instance<R = unknown> {
  private constructor(
    readonly definitions: Definitions<R>,
    readonly graph: AssetGraph<R>,
    readonly dataDir: string,
    readonly store: LineageStore,
    readonly storage: Storage,
  ) {}

  static open<R>(definitions: Definitions<R>, options: InstanceOptions = {}): Instance<R> {
    const dataDir = resolve(options.dataDir ?? (process.env.DATA_DIR?.trim() || 'data'));
    // Check the graph and the storage configuration before touching the disk:
    // a bad definition or a bad STORAGE fails fast and creates nothing.
    const graph = new AssetGraph(definitions);
    const storage = options.storage ?? storageFromEnv(process.env, dataDir);
    const store = LineageStore.open(join(dataDir, 'store', 'lineage.sqlite'));
    return new Instance(definitions, graph, dataDir, store, storage);
  }

  /** A staleness resolver over a fresh snapshot of the store. */
  resolver(now: Date = new Date(), assets?: readonly AssetKey[]): StalenessResolver {
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
    return new StalenessResolver(this.graph, snapshotView(this.store.snapshot(scope)), now, { dynamic: this.store.dynamicPartitionKeys() });
  }

  /** Status summaries of the selected assets (all when no selection), in topological order. */
  status(selection?: string, now: Date = new Date()): AssetStatusSummary[] {
    const assets = resolveSelection(this.graph, selection);
    const resolver = this.resolver(now, assets);
    return assets.map((a) => summarizeAsset(resolver, a));
  }

  close(): void {
    this.store.close();
  }
}
