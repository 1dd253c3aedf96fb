// The PostgreSQL statements of asset records (migration 10, ../asset-records.ts), over the
// store's pool. Mirrors runtime/store/sqlite-asset-records.ts.
import type pg from 'pg';
import {
  assetRecordColumns,
  assetRecordFromRow,
  assetRecordSql,
  recordFilters,
  type AssetRecord,
  type AssetRecordQuery,
  type AssetRecordRow,
  type NewAssetRecord,
} from '../asset-records.ts';

export async function addAssetRecords(pool: pg.Pool, records: readonly NewAssetRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const rows = records.map(assetRecordColumns);
  // One statement for the batch (its own transaction), in the order given: a key given twice is kept as first given, as in SQLite.
  const r = await pool.query(
    `INSERT INTO asset_records (namespace, key, partition, recorded_at, payload)
     SELECT namespace, key, partition, recorded_at, payload
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY AS r(namespace, key, partition, recorded_at, payload, ord)
     ORDER BY ord
     ON CONFLICT (namespace, key) DO NOTHING`,
    [rows.map((x) => x.namespace), rows.map((x) => x.key), rows.map((x) => x.partition), rows.map((x) => x.recordedAt), rows.map((x) => x.payload)],
  );
  return r.rowCount ?? 0;
}

function query(q: AssetRecordQuery): { clauses: ReturnType<typeof assetRecordSql>; args: unknown[] } {
  const args: unknown[] = [];
  const bind = (v: unknown): string => `$${args.push(v)}`;
  return { clauses: assetRecordSql(q, { bind, list: (values) => `= ANY(${bind([...values])}::text[])` }), args };
}

export async function assetRecords(pool: pg.Pool, q: AssetRecordQuery): Promise<AssetRecord[]> {
  const { clauses, args } = query(q);
  const { rows } = await pool.query<AssetRecordRow>(`SELECT * FROM asset_records ${clauses.where} ${clauses.order} ${clauses.limit}`, args);
  return rows.map(assetRecordFromRow);
}

export async function countAssetRecords(pool: pg.Pool, q: Omit<AssetRecordQuery, 'order' | 'limit'>): Promise<number> {
  const { clauses, args } = query(recordFilters(q));
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM asset_records ${clauses.where}`, args);
  return Number(rows[0]!.n);
}

export async function pruneAssetRecords(pool: pg.Pool, cutoff: number, dryRun: boolean): Promise<number> {
  return dryRun
    ? Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM asset_records WHERE recorded_at < $1`, [cutoff])).rows[0]!.n)
    : ((await pool.query(`DELETE FROM asset_records WHERE recorded_at < $1`, [cutoff])).rowCount ?? 0);
}
