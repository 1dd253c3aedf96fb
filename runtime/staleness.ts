// "What is stale and why": the status of every asset partition (MISSING, FRESH
// or STALE) with its causes, as data. Pure: it reads a view of the current
// versions (a snapshot, or the live store) and never the clock or the disk.
import type { AssetGraph, ResolvedDependency } from './graph.ts';
import { describePartition, UNPARTITIONED, type AssetKey, type PartitionKey } from './keys.ts';
import { mapPartitions } from './partition-mapping.ts';
import { NO_DYNAMIC_KEYS, type DynamicPartitionKeys } from './partitions.ts';
import type { CorruptDetector, CorruptReason, CurrentRecord, CurrentSnapshot, InputRecord } from './store/records.ts';
import { shortVersion, type CodeVersion, type DataVersion } from './versions.ts';

export type Status = 'FRESH' | 'STALE' | 'MISSING';

/** Why a materialized partition is stale. Each renders as a sentence with `describeCause`. */
export type StaleCause =
  | { readonly kind: 'code'; readonly from: CodeVersion; readonly to: CodeVersion }
  | {
      readonly kind: 'data';
      readonly upstream: AssetKey;
      /** The first changed upstream partition, and how many changed in all. */
      readonly partition: PartitionKey;
      readonly consumed: DataVersion;
      readonly current: DataVersion;
      readonly count: number;
      /** The upstream is a source asset (`source: true`): a re-read found the outside data revised. */
      readonly source?: boolean;
    }
  | { readonly kind: 'dependencies'; readonly added: readonly AssetKey[]; readonly removed: readonly AssetKey[] }
  | {
      readonly kind: 'partitions';
      readonly upstream: AssetKey;
      readonly newPartitions: readonly PartitionKey[];
      readonly goneCount: number;
      readonly newCount: number;
    }
  | { readonly kind: 'upstream-missing'; readonly upstream: AssetKey; readonly partitions: readonly PartitionKey[]; readonly count: number }
  | { readonly kind: 'upstream-stale'; readonly upstream: AssetKey; readonly partitions: readonly PartitionKey[]; readonly count: number }
  /** The stored file of the current version is bad (see CorruptMark): rewriting it is the only repair. */
  | {
      readonly kind: 'corrupt';
      readonly reason: CorruptReason;
      readonly detail: string;
      readonly expected: DataVersion;
      readonly found: DataVersion | null;
      readonly detectedBy: CorruptDetector;
      readonly detectedAt: number;
    };

/** Causes that materializing this asset would resolve (the others wait for upstream). */
export function isActionable(cause: StaleCause): boolean {
  return cause.kind === 'code' || cause.kind === 'data' || cause.kind === 'dependencies' || cause.kind === 'partitions' || cause.kind === 'corrupt';
}

export interface PartitionStatus {
  readonly status: Status;
  readonly causes: readonly StaleCause[];
  readonly current: CurrentRecord | undefined;
}

/** Where current versions are read from: a snapshot for planning, the store for a live decision. */
export interface CurrentView {
  current(asset: AssetKey, partition: PartitionKey): CurrentRecord | undefined;
  /** The partitions of `asset` that have a current version. */
  materializedPartitions(asset: AssetKey): PartitionKey[];
}

export function snapshotView(snapshot: CurrentSnapshot): CurrentView {
  return {
    current: (asset, partition) => snapshot.get(asset)?.get(partition),
    materializedPartitions: (asset) => [...(snapshot.get(asset)?.keys() ?? [])],
  };
}

const SAMPLE = 5;

export class StalenessResolver {
  private readonly memo = new Map<string, PartitionStatus>();
  private readonly keysCache = new Map<AssetKey, PartitionKey[]>();

  constructor(
    private readonly graph: AssetGraph<unknown>,
    /** The store snapshot statuses are computed over (freshness reads it too). */
    readonly view: CurrentView,
    /** The time statuses are computed at. */
    readonly now: Date,
    private readonly options: {
      /** Shallow: skip upstream-stale causes (enough for a run-time decision, far cheaper). */
      shallow?: boolean;
      /** Keys of dynamic partitions definitions, as the store holds them. */
      dynamic?: DynamicPartitionKeys;
    } = {},
  ) {
    this.dynamic = options.dynamic ?? NO_DYNAMIC_KEYS;
  }

  /** Keys of dynamic partitions definitions this resolver plans with. */
  readonly dynamic: DynamicPartitionKeys;

  /** All partition keys of an asset ('' for an unpartitioned one). */
  partitionKeys(asset: AssetKey): PartitionKey[] {
    let keys = this.keysCache.get(asset);
    if (!keys) {
      const def = this.graph.get(asset).partitions;
      keys = def ? def.keys(this.now, this.dynamic) : [UNPARTITIONED];
      this.keysCache.set(asset, keys);
    }
    return keys;
  }

  /** The upstream partitions `asset[partition]` reads from `dep`: for "all", those that exist. */
  expectedInputs(dep: ResolvedDependency, partition: PartitionKey): PartitionKey[] {
    const upstreamDef = this.graph.get(dep.asset).partitions;
    if (dep.mapping.kind === 'all' && upstreamDef) return this.view.materializedPartitions(dep.asset).sort();
    return mapPartitions(dep.mapping, partition, {
      upstream: upstreamDef,
      downstream: this.graph.get(dep.downstream).partitions,
      now: this.now,
      dynamic: this.dynamic,
      upstreamKeys: () => this.partitionKeys(dep.asset),
    });
  }

  status(asset: AssetKey, partition: PartitionKey): PartitionStatus {
    const id = asset + '\u0000' + partition;
    let s = this.memo.get(id);
    if (!s) {
      s = this.compute(asset, partition);
      this.memo.set(id, s);
    }
    return s;
  }

  private compute(asset: AssetKey, partition: PartitionKey): PartitionStatus {
    const current = this.view.current(asset, partition);
    if (!current) return { status: 'MISSING', causes: [], current };
    const def = this.graph.get(asset);
    const causes: StaleCause[] = [];
    if (current.corrupt) {
      const { reason, detail, expected, found, detectedBy, detectedAt } = current.corrupt;
      causes.push({ kind: 'corrupt', reason, detail, expected, found, detectedBy, detectedAt });
    }
    if (current.codeVersion !== def.codeVersion) causes.push({ kind: 'code', from: current.codeVersion, to: def.codeVersion });

    const consumed = new Map<AssetKey, Map<PartitionKey, InputRecord>>();
    for (const input of current.inputs) {
      let m = consumed.get(input.asset);
      if (!m) consumed.set(input.asset, (m = new Map()));
      m.set(input.partition, input);
    }
    const deps = this.graph.deps(asset);
    const added = deps.filter((d) => !consumed.has(d.asset)).map((d) => d.asset);
    const removed = [...consumed.keys()].filter((a) => !deps.some((d) => d.asset === a));
    if (added.length > 0 || removed.length > 0) causes.push({ kind: 'dependencies', added, removed });

    for (const dep of deps) {
      const consumedParts = consumed.get(dep.asset);
      if (!consumedParts) continue;
      const expected = this.expectedInputs(dep, partition);
      const expectedSet = new Set(expected);
      let changed: { partition: PartitionKey; consumed: DataVersion; current: DataVersion } | undefined;
      let changedCount = 0;
      const missing: PartitionKey[] = [];
      const newParts: PartitionKey[] = [];
      const stale: PartitionKey[] = [];
      for (const k of expected) {
        const up = this.view.current(dep.asset, k);
        if (!up) {
          missing.push(k);
          continue;
        }
        const was = consumedParts.get(k);
        if (!was) newParts.push(k);
        else if (was.dataVersion !== up.dataVersion) {
          changedCount++;
          changed ??= { partition: k, consumed: was.dataVersion, current: up.dataVersion };
        } else if (!this.options.shallow && this.status(dep.asset, k).status === 'STALE') stale.push(k);
      }
      // For "all", upstream partitions that were never materialized are not "expected", but they are missing.
      if (dep.mapping.kind === 'all' && this.graph.get(dep.asset).partitions) {
        for (const k of this.partitionKeys(dep.asset)) if (!expectedSet.has(k)) missing.push(k);
      }
      let goneCount = 0;
      for (const k of consumedParts.keys()) if (!expectedSet.has(k)) goneCount++;
      if (changed)
        causes.push({ kind: 'data', upstream: dep.asset, ...changed, count: changedCount, ...(this.graph.get(dep.asset).source ? { source: true } : {}) });
      if (newParts.length > 0 || goneCount > 0) {
        causes.push({ kind: 'partitions', upstream: dep.asset, newPartitions: newParts.slice(0, SAMPLE), newCount: newParts.length, goneCount });
      }
      if (missing.length > 0) causes.push({ kind: 'upstream-missing', upstream: dep.asset, partitions: missing.slice(0, SAMPLE), count: missing.length });
      if (stale.length > 0) causes.push({ kind: 'upstream-stale', upstream: dep.asset, partitions: stale.slice(0, SAMPLE), count: stale.length });
    }
    return { status: causes.length === 0 ? 'FRESH' : 'STALE', causes, current };
  }
}

function partitionList(upstream: AssetKey, partitions: readonly PartitionKey[], count: number): string {
  if (partitions.length === 1 && count === 1) return describePartition(upstream, partitions[0]!);
  if (partitions.length === 0 || partitions[0] === UNPARTITIONED) return upstream;
  const shown = partitions.slice(0, 3).join(', ');
  return `${upstream} (${count} partition${count === 1 ? '' : 's'}: ${shown}${count > 3 ? ', …' : ''})`;
}

/** One cause as a sentence, e.g. "upstream `pjm/processed` now has data version 1a2b3c4d; this one consumed 9f8e7d6c". */
export function describeCause(cause: StaleCause): string {
  switch (cause.kind) {
    case 'code':
      return `code version changed from ${shortVersion(cause.from)} to ${shortVersion(cause.to)}`;
    case 'data': {
      const where = describePartition(cause.upstream, cause.partition);
      const more = cause.count > 1 ? ` (and ${cause.count - 1} more of its partitions changed)` : '';
      if (cause.source)
        return `source revised ${where}: it now has data version ${shortVersion(cause.current)}; this one consumed ${shortVersion(cause.consumed)}${more.replace('changed', 'were revised')}`;
      return `upstream ${where} now has data version ${shortVersion(cause.current)}; this one consumed ${shortVersion(cause.consumed)}${more}`;
    }
    case 'dependencies': {
      const parts: string[] = [];
      if (cause.added.length) parts.push(`added ${cause.added.join(', ')}`);
      if (cause.removed.length) parts.push(`removed ${cause.removed.join(', ')}`);
      return `dependencies changed: ${parts.join('; ')}`;
    }
    case 'partitions': {
      const parts: string[] = [];
      if (cause.newCount)
        parts.push(
          `${cause.newCount} new partition${cause.newCount === 1 ? '' : 's'} of ${cause.upstream} (${cause.newPartitions.slice(0, 3).join(', ')}${cause.newCount > 3 ? ', …' : ''}) not yet consumed`,
        );
      if (cause.goneCount) parts.push(`${cause.goneCount} consumed partition${cause.goneCount === 1 ? '' : 's'} of ${cause.upstream} no longer exist`);
      return parts.join('; ');
    }
    case 'upstream-missing':
      return `upstream ${partitionList(cause.upstream, cause.partitions, cause.count)} ${cause.count === 1 ? 'is' : 'are'} missing`;
    case 'upstream-stale':
      return `upstream ${partitionList(cause.upstream, cause.partitions, cause.count)} ${cause.count === 1 ? 'is' : 'are'} stale`;
    case 'corrupt': {
      const what =
        cause.reason === 'mismatch'
          ? `its content hashes to ${shortVersion(cause.found ?? '?')}, not to its data version ${shortVersion(cause.expected)}`
          : cause.reason === 'missing'
            ? 'it is missing'
            : `it cannot be read (${cause.detail})`;
      const by = { verify: 'materialize verify', step: 'a step reading it', server: 'the server reading it', publish: 'a publish reusing it' }[
        cause.detectedBy
      ];
      return `the stored file is corrupt: ${what} (found by ${by} at ${new Date(cause.detectedAt).toISOString().slice(0, 19)}Z); the next run rewrites it`;
    }
  }
}

export interface AssetStatusSummary {
  readonly asset: AssetKey;
  readonly partitioned: boolean;
  readonly total: number;
  readonly fresh: number;
  readonly stale: number;
  readonly missing: number;
  /** Partitions whose stored file is known to be corrupt (counted among the stale ones too). */
  readonly corrupt: number;
  /** The asset's overall status: MISSING if any partition is missing, else STALE if any is stale. */
  readonly status: Status;
  /** Distinct cause sentences across its partitions, most common first, with counts. */
  readonly causes: readonly { readonly text: string; readonly partitions: number }[];
  readonly lastMaterializedAt: number | null;
  /** Data version of the unpartitioned asset, or of the latest materialized partition. */
  readonly dataVersion: DataVersion | null;
}

export function summarizeAsset(resolver: StalenessResolver, asset: AssetKey, keys?: readonly PartitionKey[]): AssetStatusSummary {
  const partitionKeys = keys ?? resolver.partitionKeys(asset);
  let fresh = 0;
  let stale = 0;
  let missing = 0;
  let corrupt = 0;
  let last: CurrentRecord | undefined;
  const causeCounts = new Map<string, number>();
  for (const k of partitionKeys) {
    const s = resolver.status(asset, k);
    if (s.status === 'FRESH') fresh++;
    else if (s.status === 'MISSING') missing++;
    else stale++;
    if (s.current?.corrupt) corrupt++;
    for (const c of s.causes) {
      const text = describeCause(c);
      causeCounts.set(text, (causeCounts.get(text) ?? 0) + 1);
    }
    if (s.current && (!last || s.current.endedAt > last.endedAt)) last = s.current;
  }
  return {
    asset,
    partitioned: !(partitionKeys.length === 1 && partitionKeys[0] === UNPARTITIONED),
    total: partitionKeys.length,
    fresh,
    stale,
    missing,
    corrupt,
    status: missing > 0 ? 'MISSING' : stale > 0 ? 'STALE' : 'FRESH',
    causes: [...causeCounts].sort((a, b) => b[1] - a[1]).map(([text, partitions]) => ({ text, partitions })),
    lastMaterializedAt: last?.endedAt ?? null,
    dataVersion: last?.dataVersion ?? null,
  };
}
