// Source 'dataminer-csv': Data Miner 2 CSV exports that users download by hand (CRLF line ends,
// timestamps like `5/1/2025 4:00:00 AM`). Registers them as raw relations (see raw.ts), indexed
// on datetime_beginning_utc; the EPT column is parsed too and checked against UTC, never used as
// a key (its fall-back hour repeats and its spring-forward hour is missing).
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PjmMarket } from '../config.ts';
import { findEptMismatches, type EptMismatch } from './ept-check.ts';
import { DATAMINER_CSV_TIMESTAMP, sqlFileList, sqlIdent, useUtc } from './raw.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export interface DataMinerCsvFiles {
  readonly rt: readonly string[];
  readonly da: readonly string[];
  readonly loadMetered: readonly string[];
}

/** The exports in `dir`: `*rt_hrl_lmps.csv`, `*da_hrl_lmps.csv`, `*hrl_load_metered.csv` (sorted). */
export async function findDataMinerCsvFiles(dir: string): Promise<DataMinerCsvFiles> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw new Error(`Cannot read the Data Miner CSV directory ${dir} (PJM_CSV_DIR): ${(e as Error).message}. Point PJM_CSV_DIR at a directory of exports.`);
  }
  const pick = (suffix: string): string[] => names.filter((n) => n.toLowerCase().endsWith(suffix)).map((n) => join(dir, n));
  const files = { rt: pick('rt_hrl_lmps.csv'), da: pick('da_hrl_lmps.csv'), loadMetered: pick('hrl_load_metered.csv') };
  if (files.rt.length + files.da.length + files.loadMetered.length === 0) {
    throw new Error(`No Data Miner exports in ${dir}: expected files named *_rt_hrl_lmps.csv, *_da_hrl_lmps.csv or *hrl_load_metered.csv.`);
  }
  return files;
}

/** A Data Miner export could not be read as the feed it claims to be. */
export class DataMinerCsvError extends Error {
  override readonly name = 'DataMinerCsvError';
  constructor(
    readonly files: readonly string[],
    readonly problem: string,
    readonly eptMismatches: readonly EptMismatch[] = [],
  ) {
    super(`Data Miner export ${files.join(', ')}: ${problem}`);
  }
}

/** The columns of an LMP export of `market`, in file order, with the types we read them as. */
export function lmpCsvColumns(market: PjmMarket): [string, string][] {
  const m = market;
  return [
    ['datetime_beginning_utc', 'TIMESTAMP'],
    ['datetime_beginning_ept', 'TIMESTAMP'],
    ['pnode_id', 'BIGINT'],
    ['pnode_name', 'VARCHAR'],
    ['voltage', 'VARCHAR'],
    ['equipment', 'VARCHAR'],
    ['type', 'VARCHAR'],
    ['zone', 'VARCHAR'],
    [`system_energy_price_${m}`, 'DOUBLE'],
    [`total_lmp_${m}`, 'DOUBLE'],
    [`congestion_price_${m}`, 'DOUBLE'],
    [`marginal_loss_price_${m}`, 'DOUBLE'],
    ['row_is_current', 'BOOLEAN'],
    ['version_nbr', 'INTEGER'],
  ];
}

/** The columns of an hrl_load_metered export, in file order. */
export const LOAD_METERED_CSV_COLUMNS: [string, string][] = [
  ['datetime_beginning_utc', 'TIMESTAMP'],
  ['datetime_beginning_ept', 'TIMESTAMP'],
  ['nerc_region', 'VARCHAR'],
  ['mkt_region', 'VARCHAR'],
  ['zone', 'VARCHAR'],
  ['load_area', 'VARCHAR'],
  ['mw', 'DOUBLE'],
  ['is_verified', 'BOOLEAN'],
];

/**
 * read_csv with the columns fixed and no sniffing: sniffing every file costs more than parsing it
 * (measured: 3.3 s against 0.9 s for 5 M rows), so headers are checked in TS instead
 * (checkCsvHeaders) and timestamps are parsed by the reader itself (timestampformat).
 */
function readCsv(files: readonly string[], columns: readonly (readonly [string, string])[], withFilename = false): string {
  const cols = `{${columns.map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
  // filename: which export a row came from, so that two exports disagreeing about an hour can be named.
  return `read_csv(${sqlFileList(files)}, header = true, auto_detect = false, delim = ',', quote = '"',
                   timestampformat = ${sqlString(DATAMINER_CSV_TIMESTAMP)}, columns = ${cols}${withFilename ? ', filename = true' : ''})`;
}

/** Fails unless every file's first line is exactly the expected header (CRLF or LF). */
export async function checkCsvHeaders(files: readonly string[], columns: readonly (readonly [string, string])[], feed: string): Promise<void> {
  const want = columns.map(([n]) => n).join(',');
  for (const file of new Set(files)) {
    let first: string;
    try {
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(4096);
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        first =
          buf
            .subarray(0, bytesRead)
            .toString('utf8')
            .split('\n')[0]
            ?.replace(/\r$/, '')
            .replace(/^\uFEFF/, '') ?? '';
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw new DataMinerCsvError([file], `cannot be read: ${(e as Error).message}`);
    }
    if (first !== want) {
      throw new DataMinerCsvError(
        [file],
        `is not a ${feed} export: its header is "${first.slice(0, 300)}", expected "${want}". Download the feed from Data Miner 2 as CSV without changing columns.`,
      );
    }
  }
}

/**
 * SQL selecting raw-LMP rows (raw.ts) from LMP exports of one market.
 */
export function dataMinerLmpCsvSql(files: readonly string[], market: PjmMarket): string {
  const m = market;
  return `
    SELECT timezone('UTC', datetime_beginning_utc) AS ts_utc,
           datetime_beginning_ept AS ts_ept,
           pnode_id, pnode_name, type, zone,
           ${sqlString(m)} AS market,
           system_energy_price_${m} AS energy, total_lmp_${m} AS lmp,
           congestion_price_${m} AS congestion, marginal_loss_price_${m} AS loss,
           row_is_current, version_nbr, parse_filename(filename) AS origin
    FROM ${readCsv(files, lmpCsvColumns(m), true)}`;
}

/** SQL selecting raw-load rows (kind 'metered', area = load_area) from hrl_load_metered exports. */
export function dataMinerLoadMeteredCsvSql(files: readonly string[]): string {
  return `
    SELECT timezone('UTC', datetime_beginning_utc) AS ts_utc, datetime_beginning_ept AS ts_ept,
           load_area AS area, 'metered' AS kind, mw,
           CAST(NULL AS TIMESTAMPTZ) AS issued_utc, is_verified
    FROM ${readCsv(files, LOAD_METERED_CSV_COLUMNS)}`;
}

export interface RegisteredCsv {
  readonly relation: string;
  readonly files: readonly string[];
}

/** Creates the view after checking the headers; reads no data rows. */
async function registerView(
  conn: DuckDBConnection,
  files: readonly string[],
  relation: string,
  select: string,
  columns: readonly (readonly [string, string])[],
  feed: string,
): Promise<RegisteredCsv> {
  if (files.length === 0) throw new DataMinerCsvError(files, 'no files given.');
  await checkCsvHeaders(files, columns, feed);
  await useUtc(conn);
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(relation)} AS ${select}`);
  return { relation, files };
}

/**
 * Parses every row of a registered view and checks its EPT labels against UTC on the distinct
 * (UTC, EPT) pairs (a few thousand ICU conversions, not one per row). Returns the row count.
 */
export async function verifyCsvRows(conn: DuckDBConnection, registered: RegisteredCsv): Promise<number> {
  const pairs = `${registered.relation}__hours`;
  try {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE ${sqlIdent(pairs)} AS SELECT ts_utc, ts_ept, count(*) AS n FROM ${sqlIdent(registered.relation)} GROUP BY ALL`,
    );
  } catch (e) {
    throw new DataMinerCsvError(
      registered.files,
      `cannot be parsed (${(e as Error).message.split('\n')[0]}). Check it is an unedited Data Miner 2 export of the right feed.`,
    );
  }
  try {
    const bad = await findEptMismatches(conn, pairs, 10, 'n');
    if (bad.count > 0) {
      const ex = bad.examples.map((x) => `${x.tsUtc} is ${x.expectedEpt} EPT but the file says ${x.tsEpt}`).join('; ');
      throw new DataMinerCsvError(
        registered.files,
        `${bad.count} rows whose datetime_beginning_ept disagrees with datetime_beginning_utc (${ex}). The file is damaged or not a Data Miner export.`,
        bad.examples,
      );
    }
    const n = await conn.runAndReadAll(`SELECT coalesce(sum(n), 0)::BIGINT AS n FROM ${sqlIdent(pairs)}`);
    return Number(n.getRowObjects()[0]?.['n'] ?? 0);
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${sqlIdent(pairs)}`);
  }
}

/**
 * Registers LMP exports of one market as a temp view `relation` with the raw-LMP columns. Only
 * the headers are read here; the rows are parsed once, by the canonical SQL, which also checks
 * every row's EPT label against its UTC hour (DST days included) and refuses to write on a
 * mismatch. Call verifyCsvRows for an early, file-named check (it costs a pass over the files).
 */
export function registerDataMinerLmpCsv(conn: DuckDBConnection, files: readonly string[], market: PjmMarket, relation: string): Promise<RegisteredCsv> {
  return registerView(conn, files, relation, dataMinerLmpCsvSql(files, market), lmpCsvColumns(market), `${market}_hrl_lmps`);
}

/**
 * Registers hrl_load_metered exports as a temp view `relation` with the raw-load columns, and
 * checks them now (verifyCsvRows): load files are small, and the load SQL does not re-check EPT.
 */
export async function registerDataMinerLoadMeteredCsv(
  conn: DuckDBConnection,
  files: readonly string[],
  relation: string,
): Promise<RegisteredCsv & { rows: number }> {
  const r = await registerView(conn, files, relation, dataMinerLoadMeteredCsvSql(files), LOAD_METERED_CSV_COLUMNS, 'hrl_load_metered');
  try {
    return { ...r, rows: await verifyCsvRows(conn, r) };
  } catch (e) {
    await conn.run(`DROP VIEW IF EXISTS ${sqlIdent(relation)}`);
    throw e;
  }
}
