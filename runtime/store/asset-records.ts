// Asset records: what an asset (or a group of assets and the server that answers for them)
// keeps beside its materializations in the lineage store, because a materialization is a
// version of one partition and some things are not: a forecast the product issued, a message
// a sensor saw. One row per (namespace, key), kept once: the first write of a key wins and
// later ones are ignored, so a record says what was said first, and when. A record may name a
// partition (the day it is about) so that a step reads the records of its partitions; its
// payload is JSON. They live in the lineage store, so every process that shares the store
// (a worker with a scratch DATA_DIR, the server, the CronJob) reads and writes the same ones;
// `materialize prune` removes those recorded before its records retention.
import type { JsonValue } from '../definitions.ts';
import type { PartitionKey } from '../keys.ts';
import { wholeNumber } from './query-args.ts';

export interface NewAssetRecord {
  /** Whose records: an asset key, or a namespace several assets and the server share (`pjm/served_forecasts`). */
  readonly namespace: string;
  /** Unique within the namespace: the record is kept once per key. */
  readonly key: string;
  /** The partition it is about (a step reads the records of its partitions), or null. */
  readonly partition: PartitionKey | null;
  /** When it was recorded (epoch ms, the writer's clock): the order of `newest` and what prune's retention compares. */
  readonly recordedAt: number;
  readonly payload: JsonValue;
}

export type AssetRecord = NewAssetRecord;

/** Which records of a namespace: every filter given must hold. */
export interface AssetRecordQuery {
  readonly namespace: string;
  /** These partitions, or an inclusive range in the keys' text order (ISO days and hours sort as time). */
  readonly partitions?: readonly PartitionKey[] | { readonly from: PartitionKey; readonly to: PartitionKey };
  /** These keys. */
  readonly keys?: readonly string[];
  /** `partition` (default): by partition (records without one last), then recordedAt, then key; `newest`: recordedAt descending, then key. */
  readonly order?: 'partition' | 'newest';
  readonly limit?: number;
}

/**
 * What a step (StepContextBase.records) and the server may do with asset records: the part of
 * the lineage store that holds them, nothing more.
 */
export interface AssetRecords {
  /** Keeps each record whose (namespace, key) is not kept yet, in one transaction; returns how many were new. */
  addAssetRecords(records: readonly NewAssetRecord[]): Promise<number>;
  /** The records `query` selects, in its order. */
  assetRecords(query: AssetRecordQuery): Promise<AssetRecord[]>;
  /** How many records `query` selects (its order and limit aside). */
  countAssetRecords(query: Omit<AssetRecordQuery, 'order' | 'limit'>): Promise<number>;
}

/** The asset-record methods of `store` alone, bound to it: what a step's context holds (not the whole store). */
export function assetRecordsOf(store: AssetRecords): AssetRecords {
  return {
    addAssetRecords: (records) => store.addAssetRecords(records),
    assetRecords: (query) => store.assetRecords(query),
    countAssetRecords: (query) => store.countAssetRecords(query),
  };
}

/** A record's columns as both stores hold them (payload as JSON text, written and read back byte for byte). */
export interface AssetRecordRow {
  namespace: string;
  key: string;
  partition: string | null;
  recorded_at: number | string;
  payload: string;
}

export function assetRecordFromRow(r: AssetRecordRow): AssetRecord {
  return { namespace: r.namespace, key: r.key, partition: r.partition, recordedAt: Number(r.recorded_at), payload: JSON.parse(r.payload) as JsonValue };
}

/** The checked columns of a record to write; a bad one is a RangeError naming the record. */
export function assetRecordColumns(r: NewAssetRecord): { namespace: string; key: string; partition: string | null; recordedAt: number; payload: string } {
  const where = `addAssetRecords: record ${JSON.stringify(r.key)} of ${JSON.stringify(r.namespace)}`;
  if (typeof r.namespace !== 'string' || r.namespace === '') throw new RangeError(`${where}: namespace must be a non-empty string.`);
  if (typeof r.key !== 'string' || r.key === '') throw new RangeError(`${where}: key must be a non-empty string.`);
  const payload = JSON.stringify(r.payload);
  if (payload === undefined) throw new RangeError(`${where}: payload is not JSON (undefined, a function or a symbol).`);
  return { namespace: r.namespace, key: r.key, partition: r.partition, recordedAt: wholeNumber('addAssetRecords', 'recordedAt', r.recordedAt), payload };
}

/** A query's filters alone (what a count takes): its order and limit left out. */
export function recordFilters(q: Omit<AssetRecordQuery, 'order' | 'limit'>): AssetRecordQuery {
  return { namespace: q.namespace, ...(q.partitions !== undefined ? { partitions: q.partitions } : {}), ...(q.keys !== undefined ? { keys: q.keys } : {}) };
}

/** How a store writes the SQL of a query: its placeholders and list membership. */
export interface RecordSqlDialect {
  /** The placeholder of the next argument (`?`, `$n`). */
  readonly bind: (value: unknown) => string;
  /** The membership test of a list: `IN (?, ?)` in SQLite, `= ANY($n::text[])` in PostgreSQL. */
  readonly list: (values: readonly string[]) => string;
}

/**
 * The WHERE clause, ORDER BY and LIMIT of a query, with its arguments bound through `d`.
 * Partition ranges and orders compare keys by their bytes in both stores (SQLite's default;
 * the PostgreSQL columns are COLLATE "C", whatever the database's locale).
 */
export function assetRecordSql(q: AssetRecordQuery, d: RecordSqlDialect): { where: string; order: string; limit: string } {
  const where = [`namespace = ${d.bind(q.namespace)}`];
  const p = q.partitions;
  if (p !== undefined) {
    if ('from' in p) where.push(`partition >= ${d.bind(p.from)} AND partition <= ${d.bind(p.to)}`);
    else where.push(p.length === 0 ? 'FALSE' : `partition ${d.list(p)}`);
  }
  if (q.keys !== undefined) where.push(q.keys.length === 0 ? 'FALSE' : `key ${d.list(q.keys)}`);
  const order = q.order === 'newest' ? 'ORDER BY recorded_at DESC, key' : 'ORDER BY partition NULLS LAST, recorded_at, key';
  const limit = q.limit === undefined ? '' : `LIMIT ${d.bind(wholeNumber('assetRecords', 'limit', q.limit))}`;
  return { where: `WHERE ${where.join(' AND ')}`, order, limit };
}
