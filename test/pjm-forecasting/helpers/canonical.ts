// Test helper: turns an epftoolbox-format CSV (PJM.csv or a committed slice of it) into the
// canonical prices and load Parquet tables, following the mapping of the epftoolbox source:
// COMED zone DA price as node 33092371 'COMED' market 'da'; load forecasts area 'RTO' and
// 'COMED', kind 'forecast'. The CSV is on a 24-hour EPT grid; canonical tables are on real
// UTC hours: the spring-forward hour is dropped, the (averaged) fall-back value is written on
// both UTC instants. Columns are read by position (the header has leading spaces). Stands in for the processed assets until those exist.
import type { DuckDBConnection } from '@duckdb/node-api';

export interface CanonicalPaths {
  readonly pricesParquet: string;
  readonly loadParquet: string;
}

const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** Writes `prices.parquet` and `load.parquet` under `outDir` from an epftoolbox CSV. */
export async function epftoolboxCsvToCanonical(
  conn: DuckDBConnection,
  csvPath: string,
  outDir: string,
): Promise<CanonicalPaths> {
  await conn.run(`SET TimeZone='UTC'`);
  const pricesParquet = `${outDir}/prices.parquet`;
  const loadParquet = `${outDir}/load.parquet`;
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE epf_raw AS
    SELECT CAST(c0 AS TIMESTAMP) AS local_ts, CAST(c1 AS DOUBLE) AS price,
           CAST(c2 AS DOUBLE) AS load_rto, CAST(c3 AS DOUBLE) AS load_comed
    FROM read_csv(${sqlString(csvPath)}, header = true, all_varchar = true,
                  names = ['c0', 'c1', 'c2', 'c3'])`);
  // Every real UTC hour of the covered EPT days, with its EPT wall-clock hour.
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE epf_utc AS
    WITH bounds AS (
      SELECT (min(local_ts) AT TIME ZONE 'America/New_York') AS first_utc,
             ((max(local_ts) + INTERVAL 1 HOUR) AT TIME ZONE 'America/New_York') AS end_utc
      FROM epf_raw)
    SELECT r.ts_utc, (r.ts_utc AT TIME ZONE 'America/New_York') AS local_ts
    FROM bounds, LATERAL (SELECT unnest(generate_series(first_utc, end_utc - INTERVAL 1 HOUR, INTERVAL 1 HOUR)) AS ts_utc) r`);
  await conn.run(`
    COPY (
      SELECT u.ts_utc, CAST(33092371 AS BIGINT) AS node_id, 'COMED' AS node_name, 'ZONE' AS node_type,
             'COMED' AS zone, 'da' AS market, e.price AS lmp,
             CAST(NULL AS DOUBLE) AS energy, CAST(NULL AS DOUBLE) AS congestion, CAST(NULL AS DOUBLE) AS loss
      FROM epf_utc u JOIN epf_raw e USING (local_ts) ORDER BY u.ts_utc
    ) TO ${sqlString(pricesParquet)} (FORMAT parquet)`);
  await conn.run(`
    COPY (
      SELECT u.ts_utc, a.area, 'forecast' AS kind, CASE a.area WHEN 'RTO' THEN e.load_rto ELSE e.load_comed END AS mw
      FROM epf_utc u JOIN epf_raw e USING (local_ts), (VALUES ('RTO'), ('COMED')) a(area)
      ORDER BY a.area, u.ts_utc
    ) TO ${sqlString(loadParquet)} (FORMAT parquet)`);
  return { pricesParquet, loadParquet };
}
