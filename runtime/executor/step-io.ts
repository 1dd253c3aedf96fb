// "What does a step read, and how is what it returns written": the live view a step's
// decision and inputs are read from (taken with its lease held), its inputs as exactly the
// current versions of its mapped upstream partitions, and its output written to a file in the
// step's scratch directory, ready for checks and publishing.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AssetDefinition, AssetInput, ConsumedPartition, JsonValue, MaterializeOutput, Metadata } from '../definitions.ts';
import { copyQueryToParquet, readParquetSql } from '../duckdb.ts';
import type { AssetGraph } from '../graph.ts';
import type { Instance } from '../instance.ts';
import type { StoredVersion } from '../integrity.ts';
import { describePartition, type AssetKey, type PartitionKey } from '../keys.ts';
import type { CurrentView, StalenessResolver } from '../staleness.ts';
import type { LineageStore } from '../store/lineage-store-api.ts';
import type { CurrentRecord, InputRecord } from '../store/records.ts';
import type { DataVersion } from '../versions.ts';
import type { StepState } from './units.ts';
import { sqlString } from '../../lib/duckdb/sql.ts';

/** A step whose lease is held and whose inputs are resolved: what its asset's code gets. */
export interface ResolvedStep {
  readonly state: StepState;
  readonly partition: PartitionKey;
  readonly inputs: Readonly<Record<string, AssetInput>>;
  readonly consumed: InputRecord[];
  readonly consumedFiles: StoredVersion[];
  readonly previous: { readonly dataVersion: DataVersion; readonly metadata: Metadata; readonly corrupt: boolean } | undefined;
}

/** Each stored version once (a batch's members share most of their inputs). */
export const dedupeFiles = (files: readonly StoredVersion[]): StoredVersion[] => [...new Map(files.map((f) => [f.materializationId, f])).values()];

/**
 * A view of the live store for one decision about `partitions` of `asset` (taken with their
 * leases held): their current versions and those of the upstream partitions they map to, read
 * in one go. An upstream consumed whole ("all") is read whole, as the decision lists its partitions.
 */
export async function liveView(
  store: LineageStore,
  graph: AssetGraph<unknown>,
  mapper: StalenessResolver,
  asset: AssetKey,
  partitions: readonly PartitionKey[],
): Promise<CurrentView> {
  const read = new Map<AssetKey, Map<PartitionKey, CurrentRecord>>();
  const whole = new Set<AssetKey>();
  const wanted = new Map<AssetKey, Set<PartitionKey>>([[asset, new Set(partitions)]]);
  for (const dep of graph.deps(asset)) {
    if (dep.mapping.kind === 'all' && graph.get(dep.asset).partitions) {
      whole.add(dep.asset);
      continue;
    }
    let keys = wanted.get(dep.asset);
    if (!keys) wanted.set(dep.asset, (keys = new Set()));
    for (const p of partitions) for (const k of mapper.expectedInputs(dep, p)) keys.add(k);
  }
  const snapshot = whole.size > 0 ? await store.snapshot([...whole]) : new Map<AssetKey, Map<PartitionKey, CurrentRecord>>();
  for (const a of whole) read.set(a, snapshot.get(a) ?? new Map());
  await Promise.all(
    [...wanted]
      .filter(([a]) => !whole.has(a))
      .map(async ([a, keys]) => {
        const m = new Map<PartitionKey, CurrentRecord>();
        read.set(a, m);
        const list = [...keys];
        const records = await Promise.all(list.map((k) => store.current(a, k)));
        records.forEach((r, i) => {
          if (r) m.set(list[i]!, r);
        });
      }),
  );
  return {
    current: (a, p) => read.get(a)?.get(p),
    materializedPartitions: (a) => [...(read.get(a)?.keys() ?? [])],
  };
}

/** An input of a step: its consumed partitions, with their recorded metadata read up front (the asset's code reads it synchronously). */
export async function makeInput(instance: Instance<unknown>, asset: AssetKey, io: AssetInput['io'], partitions: ConsumedPartition[]): Promise<AssetInput> {
  const metadataById = new Map(
    await Promise.all(partitions.map(async (p) => [p.materializationId, (await instance.store.materialization(p.materializationId))?.metadata ?? {}] as const)),
  );
  const paths = () => Promise.all(partitions.map((p) => instance.storage.localPath(p.location)));
  return {
    asset,
    io,
    partitions,
    paths,
    sql: async () => readParquetSql(await paths()),
    json: async <T>() => {
      if (partitions.length !== 1) throw new Error(`Input ${asset} has ${partitions.length} partitions; use jsonByPartition().`);
      return JSON.parse(await readFile(await instance.storage.localPath(partitions[0]!.location), 'utf8')) as T;
    },
    metadata: (partition?: PartitionKey) => {
      const p = partition === undefined ? (partitions.length === 1 ? partitions[0] : undefined) : partitions.find((x) => x.partition === partition);
      if (!p)
        throw new Error(
          `Input ${asset}: ${partition === undefined ? `has ${partitions.length} partitions; name one` : `partition ${partition} was not consumed`}.`,
        );
      return metadataById.get(p.materializationId) ?? {};
    },
    jsonByPartition: async <T>() => {
      const out = new Map<PartitionKey, T>();
      for (const p of partitions) out.set(p.partition, JSON.parse(await readFile(await instance.storage.localPath(p.location), 'utf8')) as T);
      return out;
    },
  };
}

/** Exactly the current versions of the step's mapped upstream partitions, or why it cannot run. */
export async function resolveInputs<R>(
  instance: Instance<R>,
  def: AssetDefinition<R>,
  step: StepState,
  live: StalenessResolver,
  view: CurrentView,
): Promise<ResolvedStep | { error: string }> {
  const { graph, store } = instance;
  const asset = def.key;
  const partition = step.step.partition;
  const inputs: Record<string, AssetInput> = {};
  const consumed: InputRecord[] = [];
  const consumedFiles: StoredVersion[] = [];
  for (const dep of graph.deps(asset)) {
    const keys = live.expectedInputs(dep, partition);
    const parts: ConsumedPartition[] = [];
    const missing: PartitionKey[] = [];
    for (const k of keys) {
      const cur = view.current(dep.asset, k);
      if (!cur) missing.push(k);
      else parts.push({ partition: k, materializationId: cur.id, dataVersion: cur.dataVersion, location: cur.location });
    }
    if (missing.length > 0 || parts.length === 0) {
      const what =
        missing.length > 0
          ? `${missing
              .slice(0, 3)
              .map((k) => describePartition(dep.asset, k))
              .join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`
          : dep.asset;
      return { error: `needs ${what}, which ${missing.length > 1 ? 'are' : 'is'} not materialized. Materialize upstream first (select +${asset}).` };
    }
    inputs[dep.inputName] = await makeInput(instance, dep.asset, graph.get(dep.asset).io, parts);
    for (const p of parts) {
      consumed.push({ asset: dep.asset, partition: p.partition, materializationId: p.materializationId, dataVersion: p.dataVersion });
      consumedFiles.push({
        asset: dep.asset,
        partition: p.partition,
        materializationId: p.materializationId,
        dataVersion: p.dataVersion,
        location: p.location,
      });
    }
  }
  const current = view.current(asset, partition);
  const previous = current && {
    dataVersion: current.dataVersion,
    metadata: (await store.materialization(current.id))?.metadata ?? {},
    corrupt: current.corrupt !== undefined,
  };
  return { state: step, partition, inputs, consumed, consumedFiles, previous };
}

export async function writeOutput(
  def: AssetDefinition<unknown>,
  output: MaterializeOutput,
  tempDir: string,
  /** The member's position in its step: names its files apart from the other members'. */
  index: number,
  duckdb: () => Promise<DuckDBConnection>,
  columnCache: Map<string, string[]>,
): Promise<{ path: string; metadata: Metadata }> {
  const fail = (what: string) =>
    new Error(
      `Asset ${def.key} (io: ${def.io}) returned ${what}; a ${def.io} asset returns ${def.io === 'json' ? '{ value }' : def.io === 'table' ? '{ sql } or { parquetFile }' : '{ file }'}.`,
    );
  if (!output || typeof output !== 'object') throw fail(String(output));
  if (def.io === 'json') {
    if (!('value' in output)) throw fail(`{ ${Object.keys(output).join(', ')} }`);
    const path = join(tempDir, `${index}.value.json`);
    await writeFile(path, JSON.stringify(output.value as JsonValue));
    return { path, metadata: {} };
  }
  if (def.io === 'table') {
    const conn = await duckdb();
    if ('sql' in output) {
      const path = join(tempDir, `${index}.table.parquet`);
      const rowCount = await copyQueryToParquet(conn, output.sql, path);
      return { path, metadata: { rowCount, columns: await columnsOf(def.key, path, conn, columnCache) } };
    }
    if (!('parquetFile' in output)) throw fail(`{ ${Object.keys(output).join(', ')} }`);
    const path = output.parquetFile;
    const given = output.metadata?.rowCount;
    const rowCount =
      typeof given === 'number'
        ? given
        : Number((await conn.runAndReadAll(`SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata(${sqlString(path)})`)).getRows()[0]?.[0] ?? 0);
    return { path, metadata: { rowCount, columns: await columnsOf(def.key, path, conn, columnCache) } };
  }
  if (!('file' in output)) throw fail(`{ ${Object.keys(output).join(', ')} }`);
  if (typeof output.file === 'string') return { path: output.file, metadata: {} };
  const path = join(tempDir, `${index}.artifact.bin`);
  await writeFile(path, output.file);
  return { path, metadata: { bytes: output.file.byteLength } };
}

async function columnsOf(asset: string, path: string, conn: DuckDBConnection, cache: Map<string, string[]>): Promise<string[]> {
  let columns = cache.get(asset);
  if (!columns) {
    const r = await conn.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(path)}))`);
    columns = r.getRows().map(([name, type]) => `${String(name)}: ${String(type)}`);
    cache.set(asset, columns);
  }
  return columns;
}
