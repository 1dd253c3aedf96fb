// Earlier versions kept the served-forecast log in its own SQLite file,
// DATA_DIR/forecasts/served.sqlite. The first process of this version that finds one (the
// server at start, pjm/forecast or pjm/forecast_score before they touch the log) imports its
// forecasts into the lineage store's log once, then renames the file served.sqlite.imported,
// so nothing kept before the upgrade is lost and nothing reads the file again. Importing is
// idempotent (a forecast is kept once per key), so two processes importing at once, or one
// that died between the import and the rename, keep each forecast once.
import Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetRecords } from '../../../runtime/index.ts';
import type { Market } from '../features/columns.ts';
import { sqliteNativeBinding } from '../../../lib/sqlite-binding.ts';
import { ServedForecastLog, type ForecastOrigin, type ServedForecast, type ServedHour } from './log.ts';

/** Where earlier versions kept the log under a data directory. */
export function legacyServedLogPath(dataDir: string): string {
  return join(dataDir, 'forecasts', 'served.sqlite');
}

/** What the file becomes once imported. */
export const IMPORTED_SUFFIX = '.imported';

/** Rows written per store transaction. */
const IMPORT_BATCH = 1000;

interface LegacyRow {
  model_version: string;
  node_id: number;
  market: Market;
  day: string;
  origin: ForecastOrigin;
  issued_at: number;
  levels: string | null;
  hours: string;
}

export interface LegacyImport {
  readonly path: string;
  /** Forecasts in the file. */
  readonly read: number;
  /** Of those, forecasts the store's log did not hold yet. */
  readonly added: number;
  /** Where the file is now. */
  readonly renamedTo: string;
}

const imports = new Map<string, Promise<LegacyImport | undefined>>();

/**
 * Imports `DATA_DIR/forecasts/served.sqlite` into the log of `records` and renames it, once per
 * process and data directory; undefined when there is no such file (the usual case).
 */
export function importLegacyServedLog(dataDir: string, records: AssetRecords): Promise<LegacyImport | undefined> {
  const path = legacyServedLogPath(dataDir);
  let done = imports.get(path);
  if (done === undefined) {
    done = importFile(path, records);
    imports.set(path, done);
    // A failed import is tried again by the next caller, rather than remembered.
    done.catch(() => imports.delete(path));
  }
  return done;
}

async function importFile(path: string, records: AssetRecords): Promise<LegacyImport | undefined> {
  if (!existsSync(path)) return undefined;
  let forecasts: ServedForecast[];
  try {
    // Read-write, so that a write-ahead log left beside it is read and checkpointed on close.
    const db = new Database(path, { fileMustExist: true, timeout: 30_000, ...sqliteNativeBinding() });
    try {
      forecasts = (db.prepare('SELECT * FROM served_forecasts ORDER BY issued_at, model_version, node_id, market, day').all() as LegacyRow[]).map((r) => ({
        origin: r.origin,
        modelVersion: r.model_version,
        nodeId: r.node_id,
        market: r.market,
        day: r.day,
        issuedAt: r.issued_at,
        levels: r.levels === null ? null : (JSON.parse(r.levels) as number[]),
        hours: JSON.parse(r.hours) as ServedHour[],
      }));
    } finally {
      db.close();
    }
  } catch (err) {
    throw new Error(
      `Could not import the served-forecast log of an earlier version, ${path}: ${(err as Error).message}. Move the file away (its forecasts then go unscored) or repair it, and start again.`,
    );
  }
  const log = new ServedForecastLog(records);
  let added = 0;
  for (let i = 0; i < forecasts.length; i += IMPORT_BATCH) added += await log.append(forecasts.slice(i, i + IMPORT_BATCH));
  const renamedTo = `${path}${IMPORTED_SUFFIX}`;
  try {
    renameSync(path, renamedTo);
  } catch (err) {
    // Another process imported and renamed it meanwhile: its forecasts are in either way.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { path, read: forecasts.length, added, renamedTo };
}
