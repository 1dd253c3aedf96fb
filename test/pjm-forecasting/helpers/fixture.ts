// Shared setup of the forecasting tests: the committed epftoolbox slice as canonical Parquet
// in a fresh temporary directory, and a DuckDB connection set to UTC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DEFAULT_PARAMS, type TrainSettings } from '../../../assets/pjm/model/settings.ts';
import { epftoolboxCsvToCanonical, type CanonicalPaths } from './canonical.ts';

export const FIXTURE_CSV = new URL('../../fixtures/pjm-forecasting/PJM-2016-10-29_2017-03-14.csv', import.meta.url).pathname;
export const COMED = 33092371;

/** BENCH_SETTINGS' shape (two members, refitted on the whole window) at a test's size. */
export const SMALL: TrainSettings = {
  variants: [
    { name: 'change_lag1', target: 'change_lag1' },
    { name: 'level', target: 'level', params: { seed: 11 } },
  ],
  params: { ...DEFAULT_PARAMS, eta: 0.3, max_depth: 4, nthread: 1 },
  maxRounds: 60,
  earlyStoppingRounds: 10,
  validationDays: 14,
  refitOnWholeWindow: true,
};

export interface FixtureContext extends CanonicalPaths {
  readonly conn: DuckDBConnection;
  readonly dir: string;
  cleanup(): void;
}

export async function openFixture(): Promise<FixtureContext> {
  const dir = mkdtempSync(join(tmpdir(), 'pjm-forecasting-'));
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run(`SET TimeZone='UTC'`);
  const paths = await epftoolboxCsvToCanonical(conn, FIXTURE_CSV, dir);
  return { ...paths, conn, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Rows of a Parquet file as plain objects, ordered by the given SQL. */
export async function readRows(conn: DuckDBConnection, path: string, orderBy = 'node_id, day, hour'): Promise<Record<string, unknown>[]> {
  const r = await conn.runAndReadAll(`SELECT * REPLACE (CAST(day AS VARCHAR) AS day) FROM read_parquet('${path}') ORDER BY ${orderBy}`);
  return r.getRowObjectsJS() as Record<string, unknown>[];
}
