// One DuckDB instance per process (in memory; tables live in Parquet files),
// handing out connections with the session time zone pinned to UTC so that
// TIMESTAMPTZ values never depend on the machine's zone.
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

let instance: Promise<DuckDBInstance> | undefined;

export function duckdbInstance(): Promise<DuckDBInstance> {
  // Imported on first use: loading DuckDB's native library costs a quarter of a
  // second, which a no-op `materialize` or a `status` should not pay.
  instance ??= import('@duckdb/node-api').then(({ DuckDBInstance }) =>
    DuckDBInstance.create(':memory:', { threads: String(Math.max(1, Number(process.env.DUCKDB_THREADS ?? 2))) }),
  );
  return instance;
}

export async function duckdbConnect(): Promise<DuckDBConnection> {
  const conn = await (await duckdbInstance()).connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  return conn;
}

/** Quotes a string as a SQL literal (paths, keys). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** `read_parquet([...])` over the given files. */
export function readParquetSql(paths: readonly string[]): string {
  return `read_parquet([${paths.map(sqlString).join(', ')}])`;
}
