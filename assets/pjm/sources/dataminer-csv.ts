// Source 'dataminer-csv': Data Miner 2 CSV exports that users download by hand (CRLF line ends,
// timestamps like `5/1/2025 4:00:00 AM`). Registers them as raw relations (see raw.ts), indexed
// on datetime_beginning_utc; the EPT column is parsed too and checked against UTC, never used as
// a key (its fall-back hour repeats and its spring-forward hour is missing).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PjmMarket } from '../config.ts';
import { findEptMismatches, type EptMismatch } from './ept-check.ts';
import { DATAMINER_CSV_TIMESTAMP, sqlFileList, sqlIdent, sqlString, useUtc } from './raw.ts';

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

const LMP_DOUBLE = ['system_energy_price', 'total_lmp', 'congestion_price', 'marginal_loss_price'] as const;

/**
 * SQL selecting raw-LMP rows (raw.ts) from LMP exports of one market. The timestamps are parsed
 * by the CSV reader itself (timestampformat), which is what makes this fast.
 */
export function dataMinerLmpCsvSql(files: readonly string[], market: PjmMarket): string {
  const m = market;
  const types = {
    datetime_beginning_utc: 'TIMESTAMP',
    datetime_beginning_ept: 'TIMESTAMP',
    pnode_id: 'BIGINT',
    pnode_name: 'VARCHAR',
    voltage: 'VARCHAR',
    equipment: 'VARCHAR',
    type: 'VARCHAR',
    zone: 'VARCHAR',
    ...Object.fromEntries(LMP_DOUBLE.map((c) => [`${c}_${m}`, 'DOUBLE'])),
    row_is_current: 'BOOLEAN',
    version_nbr: 'INTEGER',
  };
  const typeStruct = `{${Object.entries(types).map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`).join(', ')}}`;
  return `
    SELECT timezone('UTC', datetime_beginning_utc) AS ts_utc,
           datetime_beginning_ept AS ts_ept,
           pnode_id, pnode_name, type, zone,
           ${sqlString(m)} AS market,
           system_energy_price_${m} AS energy, total_lmp_${m} AS lmp,
           congestion_price_${m} AS congestion, marginal_loss_price_${m} AS loss,
           row_is_current, version_nbr
    FROM read_csv(${sqlFileList(files)}, header = true, delim = ',', quote = '"',
                  timestampformat = ${sqlString(DATAMINER_CSV_TIMESTAMP)},
                  types = ${typeStruct}, auto_detect = true)`;
}

/** SQL selecting raw-load rows (kind 'metered', area = load_area) from hrl_load_metered exports. */
export function dataMinerLoadMeteredCsvSql(files: readonly string[]): string {
  const typeStruct = `{'datetime_beginning_utc': 'TIMESTAMP', 'datetime_beginning_ept': 'TIMESTAMP', 'load_area': 'VARCHAR', 'mw': 'DOUBLE', 'is_verified': 'BOOLEAN'}`;
  return `
    SELECT timezone('UTC', datetime_beginning_utc) AS ts_utc, datetime_beginning_ept AS ts_ept,
           load_area AS area, 'metered' AS kind, mw,
           CAST(NULL AS TIMESTAMPTZ) AS issued_utc, is_verified
    FROM read_csv(${sqlFileList(files)}, header = true, delim = ',', quote = '"',
                  timestampformat = ${sqlString(DATAMINER_CSV_TIMESTAMP)},
                  types = ${typeStruct}, auto_detect = true)`;
}

export interface RegisteredCsv {
  readonly relation: string;
  readonly rows: number;
}

async function register(conn: DuckDBConnection, files: readonly string[], relation: string, select: string, keepEpt: boolean): Promise<RegisteredCsv> {
  if (files.length === 0) throw new DataMinerCsvError(files, 'no files given.');
  await useUtc(conn);
  const staging = `${relation}__with_ept`;
  try {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${sqlIdent(staging)} AS ${select}`);
  } catch (e) {
    throw new DataMinerCsvError(files, `cannot be parsed (${(e as Error).message.split('\n')[0]}). Check it is an unedited Data Miner 2 export of the right feed.`);
  }
  const bad = await findEptMismatches(conn, staging);
  if (bad.count > 0) {
    const ex = bad.examples.map((x) => `${x.tsUtc} is ${x.expectedEpt} EPT but the file says ${x.tsEpt}`).join('; ');
    throw new DataMinerCsvError(files, `${bad.count} rows whose datetime_beginning_ept disagrees with datetime_beginning_utc (${ex}). The file is damaged or not a Data Miner export.`, bad.examples);
  }
  const cols = keepEpt ? '*' : '* EXCLUDE (ts_ept)';
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(relation)} AS SELECT ${cols} FROM ${sqlIdent(staging)}`);
  const n = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${sqlIdent(staging)}`);
  return { relation, rows: Number(n.getRowObjects()[0]?.['n'] ?? 0) };
}

/**
 * Loads LMP exports of one market into a temp relation `relation` with the raw-LMP columns,
 * after checking every row's EPT label against its UTC hour (DST days included).
 */
export function registerDataMinerLmpCsv(conn: DuckDBConnection, files: readonly string[], market: PjmMarket, relation: string): Promise<RegisteredCsv> {
  return register(conn, files, relation, dataMinerLmpCsvSql(files, market), true);
}

/** Loads hrl_load_metered exports into a temp relation `relation` with the raw-load columns. */
export function registerDataMinerLoadMeteredCsv(conn: DuckDBConnection, files: readonly string[], relation: string): Promise<RegisteredCsv> {
  return register(conn, files, relation, dataMinerLoadMeteredCsvSql(files), false);
}
