// One DuckDB instance per process (in memory; tables live in Parquet files),
// handing out connections with the session time zone pinned to UTC so that
// TIMESTAMPTZ values never depend on the machine's zone.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let instance: Promise<DuckDBInstance> | undefined;

export function duckdbInstance(): Promise<DuckDBInstance> {
  instance ??= DuckDBInstance.create(':memory:', { threads: String(Math.max(1, Number(process.env.DUCKDB_THREADS ?? 2))) });
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
