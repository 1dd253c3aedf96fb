// The SQLite statements of asset records (schema migration 7, asset-records.ts). Held by
// SqliteStatements, which owns the database handle.
import type Database from 'better-sqlite3';
import {
  assetRecordColumns,
  assetRecordFromRow,
  assetRecordSql,
  recordFilters,
  type AssetRecord,
  type AssetRecordQuery,
  type AssetRecordRow,
  type NewAssetRecord,
} from './asset-records.ts';

export class SqliteAssetRecords {
  readonly #db: Database.Database;
  readonly #insert;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO asset_records (namespace, key, partition, recorded_at, payload) VALUES (@namespace, @key, @partition, @recordedAt, @payload)`,
    );
  }

  add(records: readonly NewAssetRecord[]): number {
    const rows = records.map(assetRecordColumns);
    return this.#db
      .transaction(() => {
        let added = 0;
        for (const r of rows) added += this.#insert.run(r).changes;
        return added;
      })
      .immediate();
  }

  #query(q: AssetRecordQuery): { clauses: ReturnType<typeof assetRecordSql>; args: unknown[] } {
    const args: unknown[] = [];
    const bind = (v: unknown): string => {
      args.push(v);
      return '?';
    };
    return { clauses: assetRecordSql(q, { bind, list: (values) => `IN (${values.map(bind).join(', ')})` }), args };
  }

  read(q: AssetRecordQuery): AssetRecord[] {
    const { clauses, args } = this.#query(q);
    return (this.#db.prepare(`SELECT * FROM asset_records ${clauses.where} ${clauses.order} ${clauses.limit}`).all(...args) as AssetRecordRow[]).map(
      assetRecordFromRow,
    );
  }

  count(q: Omit<AssetRecordQuery, 'order' | 'limit'>): number {
    // Filters only: a limit would bind an argument the count does not use.
    const { clauses, args } = this.#query(recordFilters(q));
    return (this.#db.prepare(`SELECT count(*) AS n FROM asset_records ${clauses.where}`).get(...args) as { n: number }).n;
  }

  prune(cutoff: number, dryRun: boolean): number {
    return dryRun
      ? (this.#db.prepare(`SELECT count(*) AS n FROM asset_records WHERE recorded_at < ?`).get(cutoff) as { n: number }).n
      : this.#db.prepare(`DELETE FROM asset_records WHERE recorded_at < ?`).run(cutoff).changes;
  }
}
