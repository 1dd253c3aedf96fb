// The served-forecast log: every forecast the product issued for a day whose prices were not
// known yet (the pjm/forecast asset's, and /predict's answers for a future day), kept once per
// model version x node x market x day in one SQLite file under DATA_DIR
// (`<DATA_DIR>/forecasts/served.sqlite`), so that pjm/forecast_score can score it once the
// day's validated prices arrive and a user can read what was said, and when, with any SQLite
// client. Its own file rather than the lineage store: it is written by the server off its
// request path, and holds forecasts, not lineage.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Market } from '../features/columns.ts';
import { sqliteNativeBinding } from '../../../lib/sqlite-binding.ts';

/** Who issued a forecast: the pjm/forecast asset, or the server answering POST /predict (or /predict/batch). */
export type ForecastOrigin = 'forecast_asset' | 'predict';
export const FORECAST_ORIGINS: readonly ForecastOrigin[] = ['forecast_asset', 'predict'];

/** One hour of a kept forecast, on the 24-hour EPT grid the features and the backtest use. */
export interface ServedHour {
  /** Grid hour 0-23 (a fall-back day's two 01:00 hours are one grid hour). */
  readonly hour: number;
  readonly value: number;
  /** The forecast's quantiles at the forecast's `levels`, non-decreasing; null without them. */
  readonly quantiles: readonly number[] | null;
}

export interface ServedForecast {
  readonly origin: ForecastOrigin;
  /** The data version of the pjm/model version that made it. */
  readonly modelVersion: string;
  readonly nodeId: number;
  readonly market: Market;
  /** EPT delivery day, YYYY-MM-DD. */
  readonly day: string;
  /** When it was issued (epoch ms). */
  readonly issuedAt: number;
  /** The quantile levels of every hour's `quantiles`; null when the model had no calibration. */
  readonly levels: readonly number[] | null;
  readonly hours: readonly ServedHour[];
}

/** Where the log lives under a data directory. */
export function servedForecastLogPath(dataDir: string): string {
  return join(dataDir, 'forecasts', 'served.sqlite');
}

/** The key a forecast is kept under: one per model version, node, market and day. */
export const servedForecastKey = (f: Pick<ServedForecast, 'modelVersion' | 'nodeId' | 'market' | 'day'>): string =>
  `${f.modelVersion}|${f.nodeId}|${f.market}|${f.day}`;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS served_forecasts (
    model_version TEXT NOT NULL,
    node_id INTEGER NOT NULL,
    market TEXT NOT NULL CHECK (market IN ('da', 'rt')),
    day TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('forecast_asset', 'predict')),
    issued_at INTEGER NOT NULL,
    levels TEXT,
    hours TEXT NOT NULL,
    PRIMARY KEY (model_version, node_id, market, day)
  );
  CREATE INDEX IF NOT EXISTS served_forecasts_by_day ON served_forecasts (day, market);`;

interface Row {
  model_version: string;
  node_id: number;
  market: Market;
  day: string;
  origin: ForecastOrigin;
  issued_at: number;
  levels: string | null;
  hours: string;
}

const fromRow = (r: Row): ServedForecast => ({
  origin: r.origin,
  modelVersion: r.model_version,
  nodeId: r.node_id,
  market: r.market,
  day: r.day,
  issuedAt: r.issued_at,
  levels: r.levels === null ? null : (JSON.parse(r.levels) as number[]),
  hours: JSON.parse(r.hours) as ServedHour[],
});

export class ServedForecastLog {
  readonly #db: Database.Database;
  readonly #insert;
  readonly #byDays;
  readonly #recent;

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO served_forecasts (model_version, node_id, market, day, origin, issued_at, levels, hours)
       VALUES (@modelVersion, @nodeId, @market, @day, @origin, @issuedAt, @levels, @hours)`,
    );
    this.#byDays = db.prepare(`SELECT * FROM served_forecasts WHERE day >= ? AND day <= ? ORDER BY day, node_id, issued_at, model_version`);
    this.#recent = db.prepare(`SELECT * FROM served_forecasts ORDER BY issued_at DESC, day DESC, node_id LIMIT ?`);
  }

  /** Opens (creating it and its directory) the log at `path` for writing and reading. */
  static open(path: string): ServedForecastLog {
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: 30_000, ...sqliteNativeBinding() });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    return new ServedForecastLog(path, db);
  }

  /** Opens the log to read it, or undefined when nothing was ever kept at `path`. */
  static openIfExists(path: string): ServedForecastLog | undefined {
    return existsSync(path) ? ServedForecastLog.open(path) : undefined;
  }

  /** Keeps each forecast not kept before (same model version, node, market and day), in one transaction; returns how many were new. */
  append(forecasts: readonly ServedForecast[]): number {
    return this.#db.transaction(() => {
      let added = 0;
      for (const f of forecasts) {
        added += this.#insert.run({ ...f, levels: f.levels === null ? null : JSON.stringify(f.levels), hours: JSON.stringify(f.hours) }).changes;
      }
      return added;
    })();
  }

  /** Every forecast kept for the days `from`..`to` (inclusive), by day, node and issue time. */
  forDays(from: string, to: string): ServedForecast[] {
    return (this.#byDays.all(from, to) as Row[]).map(fromRow);
  }

  /** The latest `limit` forecasts kept, newest first. */
  recent(limit: number): ServedForecast[] {
    return (this.#recent.all(limit) as Row[]).map(fromRow);
  }

  close(): void {
    this.#db.close();
  }
}
