// One DuckDB instance per process (in memory; tables live in Parquet files),
// handing out connections with the session time zone pinned to UTC so that
// TIMESTAMPTZ values never depend on the machine's zone.
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ConnectionPool } from '../lib/duckdb/pool.ts';
import { sqlIdent, sqlString } from '../lib/duckdb/sql.ts';
import { duckdbSettingsFromEnv, type DuckDbSettings } from './settings.ts';

let instance: Promise<DuckDBInstance> | undefined;
let settings: DuckDbSettings | undefined;

/**
 * Gives DuckDB its validated settings (runtime/settings.ts); the CLI and the server call it at
 * start. A process that never calls it (a test, a script using the runtime API) gets the same
 * validated reading of DUCKDB_* on first use. Settings cannot change once DuckDB has started.
 */
export function configureDuckdb(next: DuckDbSettings): void {
  if (instance && settings && JSON.stringify(settings) !== JSON.stringify(next)) {
    throw new Error(`DuckDB is already running with ${JSON.stringify(settings)}; configure it before its first use.`);
  }
  settings = next;
}

function currentSettings(): DuckDbSettings {
  return (settings ??= duckdbSettingsFromEnv(process.env));
}

export function duckdbInstance(): Promise<DuckDBInstance> {
  // Imported on first use: loading DuckDB's native library costs a quarter of a
  // second, which a no-op `materialize` or a `status` should not pay.
  // DuckDB's default memory limit is 80% of the machine; tables here are small and
  // live in Parquet files, so cap it (DUCKDB_MEMORY_LIMIT) to keep a run's footprint
  // predictable next to XGBoost and the server. Larger work spills to disk.
  const { threads, memoryLimit } = currentSettings();
  instance ??= import('@duckdb/node-api').then(({ DuckDBInstance }) =>
    DuckDBInstance.create(':memory:', {
      threads: String(threads),
      memory_limit: memoryLimit,
      // Reading thousands of one-day Parquet files in insertion order keeps a buffer per
      // file: 2,184 days of prices took 490 MiB, and 296 MiB without it. Outputs are
      // ORDER BYed anyway (identical data must give identical bytes and data versions).
      preserve_insertion_order: 'false',
      // Asset files are read once or twice each; caching them in the buffer pool only grows
      // the process (a 13,000-step backfill held ~400 MiB of file cache).
      enable_external_file_cache: 'false',
    }),
  );
  return instance;
}

export async function duckdbConnect(): Promise<DuckDBConnection> {
  const conn = await (await duckdbInstance()).connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  return conn;
}

// Steps borrow connections from the pool (lib/duckdb/pool.ts), which keeps up to DUCKDB_POOL_SIZE
// idle. A returned connection has its temporary tables and views dropped, so a step never sees
// another step's scratch objects.
const stepConnections = new ConnectionPool({ connect: duckdbConnect, maxIdle: () => currentSettings().poolSize, reset: dropScratchObjects });

export function borrowConnection(): Promise<DuckDBConnection> {
  return stepConnections.borrow();
}

export function returnConnection(conn: DuckDBConnection): Promise<void> {
  return stepConnections.release(conn);
}

async function dropScratchObjects(conn: DuckDBConnection): Promise<void> {
  const r = await conn.runAndReadAll(
    `SELECT 'TABLE' AS kind, table_name AS name FROM duckdb_tables() WHERE temporary
     UNION ALL SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal`,
  );
  const objects = r.getRowObjects();
  // Views first: they may read the tables.
  for (const o of objects.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'VIEW' ? -1 : 1))) {
    await conn.run(`DROP ${String(o.kind)} IF EXISTS temp.main.${sqlIdent(String(o.name))}`);
  }
  await conn.run(`SET TimeZone = 'UTC'`);
}

// The runtime API has always exported the quoting helpers; they are lib/duckdb/sql.ts's.
export { readParquetSql, sqlString } from '../lib/duckdb/sql.ts';

/**
 * Writes a query's rows to a Parquet file and returns how many: the one way a table asset's
 * SQL output becomes a file, so a batch member's file is byte for byte a single step's.
 */
export async function copyQueryToParquet(conn: DuckDBConnection, sql: string, path: string): Promise<number> {
  const copied = await conn.runAndReadAll(`COPY (${sql}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION snappy)`);
  return Number(copied.getRows()[0]?.[0] ?? 0);
}
