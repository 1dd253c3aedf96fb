// The latest validated data, as the lineage store knows it: the current materialization of
// each partition of `pjm/validated/prices` (node x day, `<pnode id>|<day>`; a daily asset of
// all nodes is read too) and of `pjm/validated/load` (daily). Refreshed when the store
// says something changed (FeatureService subscribes to it), so a request looks partitions up in memory. Every entry carries
// its data version: caches key on those, so new data can never be served from an old cache.
// It also knows which of those partitions the store has marked corrupt (a stored file that
// failed a read or a verification): requests that need one are refused naming it, /ready
// reports the server degraded, and the others are served as usual.
import { assetKey, type AssetKey, type CorruptMark, type CurrentRecord, type LineageStore } from '../../runtime/index.ts';
import { ASSET_KEYS } from '../../assets/pjm/forecasting.ts';

export const PRICES_ASSET: AssetKey = assetKey(ASSET_KEYS.validatedPrices);
export const LOAD_ASSET: AssetKey = assetKey(ASSET_KEYS.validatedLoad);

export interface PartitionVersion {
  readonly asset: AssetKey;
  /** The partition key: `<pnode id>|<day>` for node x day prices, the day otherwise. */
  readonly partition: string;
  /** EPT delivery day. */
  readonly day: string;
  /** The pricing node of a node x day partition; null when the partition holds every node of its day. */
  readonly node: number | null;
  readonly materializationId: number;
  readonly dataVersion: string;
  readonly location: string;
  /** Set when the store marked this version's file corrupt. */
  readonly corrupt?: CorruptMark;
}

export class ValidatedCatalog {
  #prices = new Map<string, PartitionVersion>();
  #load = new Map<string, PartitionVersion>();
  #generation = 0;
  #fingerprint = '';
  #token = '';

  constructor(
    private readonly store: LineageStore,
    readonly pricesAsset: AssetKey = PRICES_ASSET,
    readonly loadAsset: AssetKey = LOAD_ASSET,
  ) {}

  /** Re-reads the current partitions; resolves to true when anything changed. */
  async refresh(): Promise<boolean> {
    // Reading every current partition costs tens of milliseconds on a large store; skip it
    // unless a materialization or a corrupt mark was recorded since.
    const [changes, corruption] = await Promise.all([this.store.changeToken(), this.store.corruptionToken()]);
    const token = `${changes}|${corruption}`;
    if (token === this.#token) return false;
    const snapshot = await this.store.snapshot([this.pricesAsset, this.loadAsset]);
    this.#token = token;
    const toMap = (asset: AssetKey): Map<string, PartitionVersion> => {
      const out = new Map<string, PartitionVersion>();
      for (const [partition, c] of snapshot.get(asset) ?? new Map<string, CurrentRecord>()) {
        const at = partition.indexOf('|');
        const day = partition.slice(at + 1);
        const node = at < 0 ? null : Number(partition.slice(0, at));
        out.set(partition, {
          asset,
          partition,
          day,
          node,
          materializationId: c.id,
          dataVersion: c.dataVersion,
          location: c.location,
          ...(c.corrupt ? { corrupt: c.corrupt } : {}),
        });
      }
      return out;
    };
    const prices = toMap(this.pricesAsset);
    const load = toMap(this.loadAsset);
    const fingerprint = [...prices.values(), ...load.values()]
      .map((p) => `${p.materializationId}${p.corrupt ? `!${p.corrupt.detectedAt}` : ''}`)
      .sort()
      .join(',');
    if (fingerprint === this.#fingerprint) return false;
    this.#prices = prices;
    this.#load = load;
    this.#fingerprint = fingerprint;
    this.#generation++;
    return true;
  }

  /** Increases whenever the set of current partitions changes. */
  get generation(): number {
    return this.#generation;
  }

  /** The validated prices of `node` on `day`: its node-day partition, or the day's partition of every node. */
  prices(node: number, day: string): PartitionVersion | undefined {
    return this.#prices.get(`${node}|${day}`) ?? this.#prices.get(day);
  }

  load(day: string): PartitionVersion | undefined {
    return this.#load.get(day);
  }

  /** The price partitions of the latest `n` days (every node of each), by day then partition. */
  latestPrices(n: number): PartitionVersion[] {
    return latestDays([...this.#prices.values()], n);
  }

  /** The load partitions of the latest `n` days, by day. */
  latestLoads(n: number): PartitionVersion[] {
    return latestDays([...this.#load.values()], n);
  }

  /** The price partitions of the latest `n` days whose files are not marked corrupt. */
  latestIntactPrices(n: number): PartitionVersion[] {
    return latestDays(
      [...this.#prices.values()].filter((p) => !p.corrupt),
      n,
    );
  }

  /** Every current partition marked corrupt, prices then load, by day. */
  corrupt(): PartitionVersion[] {
    return [
      ...[...this.#prices.values()].filter((p) => p.corrupt).sort(byDayThenPartition),
      ...[...this.#load.values()].filter((p) => p.corrupt).sort(byDayThenPartition),
    ];
  }

  /** The latest load partition (by day). */
  latestLoad(): PartitionVersion | undefined {
    let best: PartitionVersion | undefined;
    for (const l of this.#load.values()) if (!best || l.day > best.day) best = l;
    return best;
  }

  get counts(): { prices: number; load: number } {
    return { prices: this.#prices.size, load: this.#load.size };
  }
}

const byDayThenPartition = (a: PartitionVersion, b: PartitionVersion): number =>
  a.day < b.day ? -1 : a.day > b.day ? 1 : a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0;

/** The partitions of the latest `n` distinct days of `list`, sorted. */
function latestDays(list: PartitionVersion[], n: number): PartitionVersion[] {
  const days = [...new Set(list.map((p) => p.day))].sort().slice(-n);
  const keep = new Set(days);
  return list.filter((p) => keep.has(p.day)).sort(byDayThenPartition);
}
