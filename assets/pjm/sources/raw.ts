// The two raw relation shapes every PJM source produces, so that one canonical SQL
// (assets/pjm/processed/) serves every source. A source registers a DuckDB view or table with
// exactly these columns; processed SQL reads nothing else.
//
// Raw LMP (one row per source row, revisions included):
//   ts_utc TIMESTAMPTZ   start of the hour, UTC (from datetime_beginning_utc)
//   ts_ept TIMESTAMP     start of the hour, EPT wall clock (from datetime_beginning_ept; checked, not used as a key)
//   pnode_id BIGINT, pnode_name VARCHAR, type VARCHAR, zone VARCHAR
//   market VARCHAR       'da' | 'rt'
//   energy, lmp, congestion, loss DOUBLE   (components NULL when the source has none)
//   row_is_current BOOLEAN, version_nbr INTEGER
//   origin VARCHAR       where the row came from (an export's file name, an API feed), to name it in data errors
// Raw load:
//   ts_utc TIMESTAMPTZ, area VARCHAR, kind VARCHAR ('forecast' | 'metered'), mw DOUBLE,
//   issued_utc TIMESTAMPTZ   when a forecast was issued (NULL when unknown or metered)
//   is_verified BOOLEAN      metered rows: PJM's verification flag (NULL for forecasts)
// A relation may carry more columns (e.g. ts_ept on load); the canonical SQL names what it reads.

export const RAW_LMP_COLUMNS = [
  'ts_utc',
  'ts_ept',
  'pnode_id',
  'pnode_name',
  'type',
  'zone',
  'market',
  'energy',
  'lmp',
  'congestion',
  'loss',
  'row_is_current',
  'version_nbr',
  'origin',
] as const;

export const RAW_LOAD_COLUMNS = ['ts_utc', 'area', 'kind', 'mw', 'issued_utc', 'is_verified'] as const;

export type LoadKind = 'forecast' | 'metered';

/**
 * Whether the configured source has load data at all, decided once when the definitions are
 * built. `absent` is an expected outcome, not an error (a folder of price exports only): the load
 * assets are then published empty and say so in a failed, non-blocking `load_feed` check, never
 * "complete"; downstream can test `status` and leave load out. `present` lists what every day
 * must contain: a day without rows for one of `series` is a failed blocking check.
 */
export type LoadFeed =
  | { readonly status: 'present'; readonly feeds: readonly string[]; readonly series: readonly { readonly area: string; readonly kind: LoadKind }[] }
  | { readonly status: 'absent'; readonly reason: string };

/** The Data Miner 2 timestamp format of CSV exports: `5/1/2025 4:00:00 AM`. */
export const DATAMINER_CSV_TIMESTAMP = '%m/%d/%Y %I:%M:%S %p';

export const EPT_ZONE = 'America/New_York';

// Quoting is lib/duckdb/sql.ts's; PJM's SQL modules import it from here with the zone and the formats.
export { sqlIdent, sqlStringList as sqlFileList } from '../../../lib/duckdb/sql.ts';

/** Every PJM SQL runs with the session time zone UTC, so TIMESTAMPTZ values print and cast as UTC. */
export async function useUtc(conn: { run(sql: string): Promise<unknown> }): Promise<void> {
  await conn.run(`SET TimeZone = 'UTC'`);
}
