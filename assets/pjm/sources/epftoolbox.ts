// Source 'epftoolbox' (the default): the bundled open benchmark data/epftoolbox/PJM.csv.
// Maps each row (EPT wall-clock hour, COMED zone DA price, RTO and COMED load forecasts) to the
// raw relations of raw.ts on real UTC hours:
// - the spring-forward hour (02:00 EPT on the March DST day) never happened; the dataset
//   interpolated it, so the row is dropped and counted;
// - the fall-back hour (01:00 EPT on the November DST day) happened twice; the dataset averaged
//   it into one row, whose value is written on both UTC instants and counted;
// so every real hour is present exactly once. See data/epftoolbox/SOURCE.md.
import type { DuckDBConnection } from '@duckdb/node-api';
import { basename } from 'node:path';
import { EPFTOOLBOX_NODE } from '../config.ts';
import { EPT_ZONE, sqlIdent, useUtc } from './raw.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export interface EpftoolboxRelations {
  readonly lmp: string;
  readonly load: string;
}

export interface EpftoolboxSummary {
  /** Rows of PJM.csv read (within the day range, if given). */
  readonly csvRows: number;
  /** Raw LMP rows produced (one per real UTC hour). */
  readonly lmpRows: number;
  /** Rows dropped because their EPT hour does not exist (spring forward). */
  readonly springForwardRowsDropped: number;
  /** Rows written on two UTC hours because their EPT hour happened twice (fall back). */
  readonly fallBackHoursDuplicated: number;
  /** First and last EPT day read, YYYY-MM-DD (null when none). */
  readonly firstDay: string | null;
  readonly lastDay: string | null;
}

export interface EpftoolboxOptions {
  /** First and last EPT day to read (inclusive); default the whole file. */
  readonly start?: string;
  readonly end?: string;
  /** Names of the temp relations to create; default epf_lmp_raw and epf_load_raw. */
  readonly relations?: EpftoolboxRelations;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads PJM.csv (or a slice with its header) into two temp tables with the raw-LMP and raw-load
 * columns, and reports how DST was handled. Columns are read by position: the original header has
 * leading spaces and a typo ("foecast").
 */
export async function registerEpftoolbox(
  conn: DuckDBConnection,
  csvPath: string,
  options: EpftoolboxOptions = {},
): Promise<EpftoolboxSummary & { relations: EpftoolboxRelations }> {
  const relations = options.relations ?? { lmp: 'epf_lmp_raw', load: 'epf_load_raw' };
  for (const [name, v] of [
    ['start', options.start],
    ['end', options.end],
  ] as const) {
    if (v !== undefined && !ISO_DAY.test(v)) throw new Error(`registerEpftoolbox: ${name} must be YYYY-MM-DD, got ${JSON.stringify(v)}`);
  }
  await useUtc(conn);
  const dayFilter = [
    options.start === undefined ? null : `CAST(local_ts AS DATE) >= DATE ${sqlString(options.start)}`,
    options.end === undefined ? null : `CAST(local_ts AS DATE) <= DATE ${sqlString(options.end)}`,
  ].filter((x) => x !== null);
  try {
    await conn.run(`
      CREATE OR REPLACE TEMP TABLE epf_csv AS
      SELECT * FROM (
        SELECT CAST(c0 AS TIMESTAMP) AS local_ts, CAST(c1 AS DOUBLE) AS price,
               CAST(c2 AS DOUBLE) AS load_rto, CAST(c3 AS DOUBLE) AS load_comed
        FROM read_csv(${sqlString(csvPath)}, header = true, all_varchar = true, names = ['c0', 'c1', 'c2', 'c3']))
      ${dayFilter.length > 0 ? `WHERE ${dayFilter.join(' AND ')}` : ''}`);
  } catch (e) {
    throw new Error(
      `Cannot read the epftoolbox file ${csvPath}: ${(e as Error).message.split('\n')[0]}. Expected PJM.csv (Date, price, system load forecast, COMED load forecast); see data/epftoolbox/SOURCE.md.`,
    );
  }
  // Every real UTC hour of the covered EPT days, each with its EPT wall-clock label. A local row
  // joins to 0 (spring forward), 1 or 2 (fall back) of them.
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE epf_hours AS
    WITH b AS (
      SELECT timezone('${EPT_ZONE}', CAST(CAST(min(local_ts) AS DATE) AS TIMESTAMP)) AS lo,
             timezone('${EPT_ZONE}', CAST(CAST(max(local_ts) AS DATE) + 1 AS TIMESTAMP)) AS hi
      FROM epf_csv)
    SELECT ts_utc, timezone('${EPT_ZONE}', ts_utc) AS local_ts
    FROM b, LATERAL (SELECT unnest(generate_series(b.lo, b.hi - INTERVAL 1 HOUR, INTERVAL 1 HOUR)) AS ts_utc)`);
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE epf_mapped AS
    SELECT h.ts_utc, e.* FROM epf_csv e JOIN epf_hours h USING (local_ts)`);
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE ${sqlIdent(relations.lmp)} AS
    SELECT ts_utc, local_ts AS ts_ept, CAST(${EPFTOOLBOX_NODE.id} AS BIGINT) AS pnode_id, ${sqlString(EPFTOOLBOX_NODE.name ?? 'COMED')} AS pnode_name,
           'ZONE' AS type, 'COMED' AS zone, 'da' AS market,
           CAST(NULL AS DOUBLE) AS energy, price AS lmp, CAST(NULL AS DOUBLE) AS congestion, CAST(NULL AS DOUBLE) AS loss,
           true AS row_is_current, CAST(1 AS INTEGER) AS version_nbr, ${sqlString(basename(csvPath))} AS origin
    FROM epf_mapped`);
  // The dataset's load series are day-ahead forecasts whose issue time is not recorded: issued_utc NULL.
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE ${sqlIdent(relations.load)} AS
    SELECT ts_utc, 'RTO' AS area, 'forecast' AS kind, load_rto AS mw, CAST(NULL AS TIMESTAMPTZ) AS issued_utc, CAST(NULL AS BOOLEAN) AS is_verified FROM epf_mapped
    UNION ALL
    SELECT ts_utc, 'COMED', 'forecast', load_comed, NULL, NULL FROM epf_mapped`);
  const s = await conn.runAndReadAll(`
    SELECT (SELECT count(*) FROM epf_csv)::BIGINT AS csv_rows,
           (SELECT count(*) FROM epf_mapped)::BIGINT AS lmp_rows,
           (SELECT count(*) FROM epf_csv e WHERE NOT EXISTS (SELECT 1 FROM epf_hours h WHERE h.local_ts = e.local_ts))::BIGINT AS dropped,
           (SELECT count(*) FROM (SELECT local_ts FROM epf_mapped GROUP BY local_ts HAVING count(*) = 2))::BIGINT AS doubled,
           (SELECT CAST(CAST(min(local_ts) AS DATE) AS VARCHAR) FROM epf_csv) AS first_day,
           (SELECT CAST(CAST(max(local_ts) AS DATE) AS VARCHAR) FROM epf_csv) AS last_day`);
  const r = s.getRowObjects()[0] ?? {};
  const dupLocal = await conn.runAndReadAll(`SELECT count(*) - count(DISTINCT local_ts) AS n FROM epf_csv`);
  if (Number(dupLocal.getRowObjects()[0]?.['n'] ?? 0) > 0) {
    throw new Error(
      `The epftoolbox file ${csvPath} repeats a Date value; PJM.csv has exactly one row per EPT hour. Restore it from data/epftoolbox (see SOURCE.md).`,
    );
  }
  await conn.run(`DROP TABLE epf_csv; DROP TABLE epf_hours; DROP TABLE epf_mapped;`);
  return {
    relations,
    csvRows: Number(r['csv_rows']),
    lmpRows: Number(r['lmp_rows']),
    springForwardRowsDropped: Number(r['dropped']),
    fallBackHoursDuplicated: Number(r['doubled']),
    firstDay: r['first_day'] === null ? null : String(r['first_day']),
    lastDay: r['last_day'] === null ? null : String(r['last_day']),
  };
}
