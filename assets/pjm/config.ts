// The one configuration of the PJM pipeline (source, nodes, markets, date range, paths, API
// settings), read from environment variables over defaults. The CLI, the server and the CronJob
// all call `loadPjmConfig`; nothing else reads PJM_* variables. The API key never leaves this
// object in printable form: `describePjmConfig` and `toJSON` redact it.
import { inspect } from 'node:util';
import { join } from 'node:path';
import { projectRoot } from '../../lib/code-location.ts';
import { addDays } from '../../lib/days.ts';
import { SettingError } from '../../runtime/settings.ts';
import type { Recalibration } from './backtest/index.ts';

export type PjmSource = 'epftoolbox' | 'dataminer-api' | 'dataminer-csv';
export type PjmMarket = 'da' | 'rt';

export const PJM_SOURCES: readonly PjmSource[] = ['epftoolbox', 'dataminer-api', 'dataminer-csv'];
export const PJM_MARKETS: readonly PjmMarket[] = ['da', 'rt'];

/** A pricing node: PJM pnode_id and, when known, its name. */
export interface PjmNode {
  readonly id: number;
  readonly name: string | null;
}

export interface PjmApiConfig {
  /** Base URL ending in '/', e.g. https://api.pjm.com/api/v1/ */
  readonly baseUrl: string;
  /** Subscription key (header Ocp-Apim-Subscription-Key); null when not set. Never log it. */
  readonly key: string | null;
  /** Per-request timeout in milliseconds. */
  readonly timeoutMs: number;
  /** Requests allowed per minute (PJM allows 6 for non-members). */
  readonly requestsPerMinute: number;
  /** Attempts per page for retryable failures (429, 5xx, timeouts, network errors). */
  readonly maxAttempts: number;
}

/** The days the data covers, as found by reading it (`dataminer-csv` exports; see assets/pjm/data-span.ts). */
export interface DataSpan {
  readonly start: string;
  readonly end: string;
  /** Where it came from, for the run output: the files and feeds, each feed's span, their overlap. */
  readonly detail: string;
}

/** The pricing nodes of the `dataminer-csv` exports, as found by reading them (assets/pjm/data-span.ts). */
/** The LMP feeds a PJM_CSV_DIR holds: the default PJM_MARKETS of a `dataminer-csv` run. */
export interface ExportMarkets {
  /** The markets with a *_{market}_hrl_lmps.csv export, in PJM_MARKETS order (da before rt). */
  readonly markets: readonly PjmMarket[];
  /** For the run output: which exports were found, and which market was done without. */
  readonly detail: string;
}

/** The load areas of a PJM_CSV_DIR's metered-load export: the default PJM_LOAD_AREAS of a `dataminer-csv` run. */
export interface ExportLoadAreas {
  readonly areas: readonly string[];
  readonly detail: string;
}

/** What `resolvePjmConfig` read from the exports of a `dataminer-csv` run, for the defaults it gives. */
export interface ReadFromExports {
  readonly span?: DataSpan;
  readonly nodes?: ExportNodes;
  readonly markets?: ExportMarkets;
  readonly loadAreas?: ExportLoadAreas;
}

export interface ExportNodes {
  /** The nodes with rows in the export of every configured market, with their pnode_name: the default PJM_NODES. */
  readonly inEvery: readonly PjmNode[];
  /** For the run output: how many nodes each market's export holds, and which were left out. */
  readonly detail: string;
}

/**
 * The backtest's test period: explicit days, or the last `days` days of the data (ending at
 * `end` when given); all null means the default (the epftoolbox period on epftoolbox, else the
 * last fifth of the days).
 */
export interface BacktestPeriodSetting {
  readonly start: string | null;
  readonly end: string | null;
  readonly days: number | null;
}

/** Which model families pjm/model and pjm/backtest run (PJM_MODEL_FAMILIES). */
export type FamilyChoice = 'xgboost' | 'lear' | 'ensemble';
export const FAMILY_CHOICES: readonly FamilyChoice[] = ['xgboost', 'lear', 'ensemble'];

/** The model's composition and its guard. */
export interface PjmModelSetting {
  /**
   * PJM_MODEL_FAMILIES: ensemble (the default: the plain mean of XGBoost and LEAR), xgboost, or
   * lear (XGBoost where LEAR has no forecast): backtested, and served by pjm/model.
   */
  readonly families: FamilyChoice;
  /**
   * PJM_LEAR_WINDOWS: LEAR calibration windows in days, averaged (CWA). Default 56,1092,
   * chosen with the refit intervals on the year before the epftoolbox test period
   * (bench/lear-cadence.ts): the most accurate ensemble there whose LEAR fits cost under 60 s
   * over the 728 test days; epftoolbox uses 56,84,1092,1456.
   */
  readonly learWindows: readonly number[];
  /**
   * PJM_LEAR_RECALIBRATION_DAYS: each window's refit interval in the backtest, in days (one for
   * every window, or one per window). Default: 7 for a window of up to 182 days, 56 for a longer
   * one (a short window's fit goes stale within weeks, a long one hardly moves).
   */
  readonly learEveryDays: readonly number[];
  /**
   * PJM_MODEL_MAX_WORSE: the relative backtest MAE increase over the current model at which
   * pjm/model's no_worse_than_current check blocks; default 0.02; 'off' disables the check.
   */
  readonly maxWorse: number | null;
}

export interface PjmConfig {
  readonly source: PjmSource;
  readonly nodes: readonly PjmNode[];
  readonly markets: readonly PjmMarket[];
  /** First EPT delivery day, YYYY-MM-DD (inclusive). */
  readonly start: string;
  /** Last EPT delivery day, YYYY-MM-DD (inclusive). */
  readonly end: string;
  /** Where `start`..`end` came from, in words (variables, the dataset, the files' span, the API window). */
  readonly spanOrigin: string;
  /**
   * The live source with no PJM_END: the data follows the clock (its last day is yesterday,
   * whenever the process looks), and the raw prices reach the next delivery day, whose
   * day-ahead prices post before the day begins (the `da_prices_posted` sensor requests them).
   */
  readonly followsClock: boolean;
  /** Where `nodes` came from, in words (PJM_NODES, the dataset, the nodes of the exports, the 12 hubs). */
  readonly nodesOrigin: string;
  /** Where `markets` came from, in words (PJM_MARKETS, the dataset, the exports found, the default). */
  readonly marketsOrigin: string;
  /** Where `loadAreas` came from, in words (PJM_LOAD_AREAS, the metered-load export, the default). */
  readonly loadAreasOrigin: string;
  readonly backtest: BacktestPeriodSetting;
  /** Directory of Data Miner CSV exports (source 'dataminer-csv'). */
  readonly csvDir: string | null;
  /** Directory holding PJM.csv (source 'epftoolbox'). */
  readonly epftoolboxDir: string;
  /** Load areas to fetch from the live API (hrl_load_metered load_area, load_frcstd_7_day forecast_area). */
  readonly loadAreas: readonly string[];
  /** Live mode: the latest hour may be at most this many hours old. */
  readonly freshnessMaxAgeHours: number;
  /**
   * Each run re-reads the last this many days from the source (PJM revises real-time prices
   * after publication; a replaced export may differ); 0 re-reads nothing.
   */
  readonly revisionDays: number;
  readonly api: PjmApiConfig;
  readonly model: PjmModelSetting;
}

/**
 * A PJM_* variable has a value we cannot use; names the variable and what it accepts. A
 * SettingError, so the CLI and the server report it before any work, with exit code 2.
 */
export class PjmConfigError extends SettingError {
  override readonly name: string = 'PjmConfigError';
  constructor(variable: string, value: string, accepted: string) {
    super(variable, value, accepted, { redact: variable === 'PJM_API_KEY' });
  }
}

/** The COMED zone, the only node of the epftoolbox dataset. */
export const EPFTOOLBOX_NODE: PjmNode = { id: 33092371, name: 'COMED' };
export const EPFTOOLBOX_START = '2013-01-01';
export const EPFTOOLBOX_END = '2018-12-24';
export const DEFAULT_API_BASE = 'https://api.pjm.com/api/v1/';
export const DEFAULT_EPFTOOLBOX_DIR = join(projectRoot(), 'data', 'epftoolbox') + '/';

/** The 12 PJM trading hubs of the bundled hub excerpts: the default nodes of the Data Miner sources. */
export const PJM_HUBS: readonly PjmNode[] = [
  { id: 51217, name: 'EASTERN HUB' },
  { id: 51287, name: 'WEST INT HUB' },
  { id: 51288, name: 'WESTERN HUB' },
  { id: 4669664, name: 'NEW JERSEY HUB' },
  { id: 33092311, name: 'CHICAGO GEN HUB' },
  { id: 33092313, name: 'CHICAGO HUB' },
  { id: 33092315, name: 'N ILLINOIS HUB' },
  { id: 34497125, name: 'AEP GEN HUB' },
  { id: 34497127, name: 'AEP-DAYTON HUB' },
  { id: 34497151, name: 'OHIO HUB' },
  { id: 35010337, name: 'DOMINION HUB' },
  { id: 116013751, name: 'ATSI GEN HUB' },
];

type Env = Readonly<Record<string, string | undefined>>;

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function isRealDay(s: string): boolean {
  if (!ISO_DAY.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function nonEmpty(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function oneOf<T extends string>(env: Env, name: string, accepted: readonly T[], fallback: T): T {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  if ((accepted as readonly string[]).includes(v)) return v as T;
  throw new PjmConfigError(name, v, `one of ${accepted.join(', ')}`);
}

function listOf<T extends string>(env: Env, name: string, accepted: readonly T[], fallback: readonly T[]): readonly T[] {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  const items = v.split(',').map((s) => s.trim().toLowerCase());
  const bad = items.find((s) => !(accepted as readonly string[]).includes(s));
  if (bad !== undefined || items.length === 0) throw new PjmConfigError(name, v, `a comma-separated list of ${accepted.join(', ')}`);
  return [...new Set(items as T[])];
}

function positive(env: Env, name: string, fallback: number, integer: boolean): number {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new PjmConfigError(name, v, integer ? 'a positive integer' : 'a positive number');
  }
  return n;
}

function wholeNumber(env: Env, name: string, fallback: number): number {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new PjmConfigError(name, v, 'a whole number of days, 0 or more (0 re-reads nothing)');
  return n;
}

/** Default PJM_REVISION_DAYS: the trailing days every run re-reads from the source. */
export const DEFAULT_REVISION_DAYS = 7;

function day(env: Env, name: string, fallback: string): string {
  const v = nonEmpty(env, name);
  if (v === undefined) return fallback;
  if (!isRealDay(v)) throw new PjmConfigError(name, v, 'a calendar date YYYY-MM-DD');
  return v;
}

/** Parses PJM_NODES: `51217,51288` or `51217:EASTERN HUB,51288:WESTERN HUB`. */
function nodes(env: Env, fallback: readonly PjmNode[]): readonly PjmNode[] {
  const v = nonEmpty(env, 'PJM_NODES');
  if (v === undefined) return fallback;
  const accepted = 'a comma-separated list of pnode ids, each optionally followed by :NAME (e.g. 51217:EASTERN HUB,51288)';
  const out: PjmNode[] = [];
  for (const part of v.split(',')) {
    const [idText = '', ...nameParts] = part.split(':');
    const id = Number(idText.trim());
    if (!Number.isSafeInteger(id) || id <= 0) throw new PjmConfigError('PJM_NODES', v, accepted);
    const name = nameParts.join(':').trim();
    out.push({ id, name: name === '' ? null : name });
  }
  if (new Set(out.map((n) => n.id)).size !== out.length) throw new PjmConfigError('PJM_NODES', v, `${accepted}, without repeats`);
  return out;
}

/** The EPT calendar date of an instant (for defaults of the live source). */
function eptDay(now: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/** Default PJM_API_DAYS: the live source's trailing window, in EPT days. */
export const DEFAULT_API_DAYS = 90;

/** Parses PJM_BACKTEST_RECALIBRATION: monthly (default), weekly, daily, or a number of days. */
export function recalibrationFromEnv(env: Readonly<Record<string, string | undefined>>): Recalibration {
  const v = env.PJM_BACKTEST_RECALIBRATION?.trim();
  if (!v || v === 'monthly') return 'monthly';
  if (v === 'weekly' || v === 'daily') return v;
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return { everyDays: n };
  throw new Error(`PJM_BACKTEST_RECALIBRATION=${JSON.stringify(v)} is not valid: expected monthly, weekly, daily or a whole number of days.`);
}

/** Whether PJM_SOURCE chooses the Data Miner CSV exports (whose span and nodes are read from the files). */
export function csvSourceChosen(env: Env): boolean {
  return (env.PJM_SOURCE ?? '').trim() === 'dataminer-csv';
}

/** `env` with a placeholder for an unset PJM_START/PJM_END, to validate everything but the span first. */
export function withPlaceholderSpan(env: Env): Env {
  return { ...env, PJM_START: env.PJM_START || '1970-01-01', PJM_END: env.PJM_END || '9999-12-31' };
}

/** Whether PJM_MARKETS is set; when not, a `dataminer-csv` run takes the markets its exports hold. */
export function marketsGiven(env: Env): boolean {
  return nonEmpty(env, 'PJM_MARKETS') !== undefined;
}

/** Whether PJM_LOAD_AREAS is set; when not, a `dataminer-csv` run takes the areas of its metered-load export. */
export function loadAreasGiven(env: Env): boolean {
  return nonEmpty(env, 'PJM_LOAD_AREAS') !== undefined;
}

/** PJM_NODES as given (for naming it in an error). */
export function nodesSetting(env: Env): string {
  return env.PJM_NODES ?? '';
}

/** Whether the span of `dataminer-csv` must be read from the exports (a side of PJM_START/PJM_END is unset). */
export function needsDataSpan(env: Env = process.env): boolean {
  return nonEmpty(env, 'PJM_SOURCE') === 'dataminer-csv' && (nonEmpty(env, 'PJM_START') === undefined || nonEmpty(env, 'PJM_END') === undefined);
}

/**
 * Reads the PJM configuration from `env` (default `process.env`). Defaults per source:
 * - epftoolbox: node COMED (33092371), market da, 2013-01-01..2018-12-24 (the whole bundled set);
 * - dataminer-csv: the markets with an LMP export in PJM_CSV_DIR (`fromExports.markets`, read by
 *   `resolvePjmConfig`; da and rt without), the load areas of its metered-load export
 *   (`fromExports.loadAreas`: RTO when it has RTO, else every area it holds), the span of the exports in PJM_CSV_DIR (`fromExports.span`, read
 *   by `resolvePjmConfig` in assets/pjm/data-span.ts: the complete days of each feed used, and
 *   their overlap) and the nodes in every market's export (`fromExports.nodes`; the 12 hubs without);
 * - dataminer-api: the 12 hubs, markets da and rt, the PJM_API_DAYS (90) complete EPT days
 *   ending yesterday (relative to `now`; today's hours are still being published).
 * Throws PjmConfigError naming the variable and what it accepts.
 */
export function loadPjmConfig(env: Env = process.env, now: Date = new Date(), fromExports: ReadFromExports = {}): PjmConfig {
  const { span: dataSpan, nodes: exportNodes, markets: exportMarkets, loadAreas: exportLoadAreas } = fromExports;
  const source = oneOf(env, 'PJM_SOURCE', PJM_SOURCES, 'epftoolbox');
  const epf = source === 'epftoolbox';
  const yesterday = addDays(eptDay(now), -1);
  const apiDays = positive(env, 'PJM_API_DAYS', DEFAULT_API_DAYS, true);
  const csvDir = nonEmpty(env, 'PJM_CSV_DIR') ?? null;
  if (source === 'dataminer-csv' && csvDir === null) {
    throw new PjmConfigError(
      'PJM_CSV_DIR',
      '',
      'the directory of Data Miner CSV exports (*_rt_hrl_lmps.csv, *_da_hrl_lmps.csv, *hrl_load_metered.csv) when PJM_SOURCE=dataminer-csv',
    );
  }
  if (source === 'dataminer-csv' && needsDataSpan(env) && dataSpan === undefined) {
    throw new PjmConfigError(
      nonEmpty(env, 'PJM_START') === undefined ? 'PJM_START' : 'PJM_END',
      '',
      'a calendar date YYYY-MM-DD, or the span read from the exports in PJM_CSV_DIR (load the configuration with resolvePjmConfig, which reads it)',
    );
  }
  const defaults =
    source === 'epftoolbox'
      ? { start: EPFTOOLBOX_START, end: EPFTOOLBOX_END, origin: 'the epftoolbox dataset' }
      : source === 'dataminer-csv'
        ? { start: dataSpan?.start ?? '', end: dataSpan?.end ?? '', origin: dataSpan?.detail ?? '' }
        : { start: addDays(yesterday, -(apiDays - 1)), end: yesterday, origin: `the ${apiDays} EPT days ending yesterday, ${yesterday} (PJM_API_DAYS)` };
  const start = day(env, 'PJM_START', defaults.start);
  const end = day(env, 'PJM_END', defaults.end);
  if (end < start) {
    if (nonEmpty(env, 'PJM_END') === undefined)
      throw new PjmConfigError('PJM_START', start, `a day on or before the end of the data (${end}; ${defaults.origin})`);
    throw new PjmConfigError('PJM_END', end, `a day on or after PJM_START (${start})`);
  }
  const setVars = ['PJM_START', 'PJM_END'].filter((v) => nonEmpty(env, v) !== undefined);
  const spanOrigin = setVars.length === 2 ? 'PJM_START/PJM_END' : setVars.length === 0 ? defaults.origin : `${setVars[0]}, and ${defaults.origin}`;
  const backtest = backtestPeriod(env, start, end);
  const defaultMarkets = epf
    ? { markets: ['da'] as const, origin: 'the epftoolbox dataset (day-ahead prices only)' }
    : source === 'dataminer-csv' && exportMarkets !== undefined
      ? { markets: exportMarkets.markets, origin: exportMarkets.detail }
      : { markets: PJM_MARKETS, origin: 'the default (da and rt; PJM_MARKETS unset)' };
  const markets = listOf(env, 'PJM_MARKETS', PJM_MARKETS, defaultMarkets.markets);
  if (epf && markets.includes('rt')) {
    throw new PjmConfigError('PJM_MARKETS', env['PJM_MARKETS'] ?? '', "'da' only with PJM_SOURCE=epftoolbox (the dataset has day-ahead prices only)");
  }
  const baseUrl = nonEmpty(env, 'PJM_API_BASE') ?? DEFAULT_API_BASE;
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
  } catch {
    throw new PjmConfigError('PJM_API_BASE', baseUrl, 'an http(s) URL such as https://api.pjm.com/api/v1/');
  }
  const key = nonEmpty(env, 'PJM_API_KEY') ?? null;
  if (source === 'dataminer-api' && key === null) {
    throw new PjmConfigError('PJM_API_KEY', '', 'a Data Miner 2 subscription key (register at https://dataminer2.pjm.com) when PJM_SOURCE=dataminer-api');
  }
  const areas = nonEmpty(env, 'PJM_LOAD_AREAS');
  const defaultAreas = epf
    ? { areas: ['RTO', 'COMED'], origin: 'the epftoolbox dataset (RTO and COMED load forecasts)' }
    : source === 'dataminer-csv' && exportLoadAreas !== undefined
      ? { areas: exportLoadAreas.areas, origin: exportLoadAreas.detail }
      : { areas: ['RTO'], origin: 'the default (RTO; PJM_LOAD_AREAS unset)' };
  const defaultNodes = epf
    ? { nodes: [EPFTOOLBOX_NODE], origin: 'the epftoolbox dataset (COMED)' }
    : source === 'dataminer-csv' && exportNodes !== undefined
      ? { nodes: exportNodes.inEvery, origin: exportNodes.detail }
      : { nodes: PJM_HUBS, origin: `the ${PJM_HUBS.length} PJM hubs (PJM_NODES unset)` };
  return withRedaction({
    source,
    // Names PJM_NODES leaves out come from the exports' pnode_name, when they were read.
    nodes: nodes(env, defaultNodes.nodes).map((n) => (n.name !== null ? n : { ...n, name: exportNodes?.inEvery.find((e) => e.id === n.id)?.name ?? null })),
    nodesOrigin: nonEmpty(env, 'PJM_NODES') !== undefined ? 'PJM_NODES' : defaultNodes.origin,
    markets,
    marketsOrigin: nonEmpty(env, 'PJM_MARKETS') !== undefined ? 'PJM_MARKETS' : defaultMarkets.origin,
    start,
    end,
    spanOrigin,
    followsClock: source === 'dataminer-api' && nonEmpty(env, 'PJM_END') === undefined,
    backtest,
    csvDir,
    epftoolboxDir: nonEmpty(env, 'PJM_EPFTOOLBOX_DIR') ?? DEFAULT_EPFTOOLBOX_DIR,
    loadAreas:
      areas !== undefined
        ? areas
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : defaultAreas.areas,
    loadAreasOrigin: areas !== undefined ? 'PJM_LOAD_AREAS' : defaultAreas.origin,
    freshnessMaxAgeHours: positive(env, 'PJM_FRESHNESS_HOURS', 36, false),
    revisionDays: wholeNumber(env, 'PJM_REVISION_DAYS', DEFAULT_REVISION_DAYS),
    model: modelSetting(env),
    api: {
      baseUrl: baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`,
      key,
      timeoutMs: positive(env, 'PJM_API_TIMEOUT_MS', 30_000, true),
      requestsPerMinute: positive(env, 'PJM_API_RATE_LIMIT', 6, false),
      maxAttempts: positive(env, 'PJM_API_MAX_ATTEMPTS', 5, true),
    },
  });
}

/**
 * PJM_BACKTEST_START / PJM_BACKTEST_END (test days, inclusive) or PJM_BACKTEST_DAYS (the last
 * N days, ending at PJM_BACKTEST_END when set). The days must lie within PJM_START..PJM_END.
 */
function backtestPeriod(env: Env, start: string, end: string): BacktestPeriodSetting {
  const first = nonEmpty(env, 'PJM_BACKTEST_START') === undefined ? null : day(env, 'PJM_BACKTEST_START', '');
  const last = nonEmpty(env, 'PJM_BACKTEST_END') === undefined ? null : day(env, 'PJM_BACKTEST_END', '');
  const days = nonEmpty(env, 'PJM_BACKTEST_DAYS') === undefined ? null : positive(env, 'PJM_BACKTEST_DAYS', 0, true);
  if (first !== null && days !== null) {
    throw new PjmConfigError(
      'PJM_BACKTEST_DAYS',
      String(days),
      'to be unset when PJM_BACKTEST_START is set (give the test period as START..END, or as the last DAYS days)',
    );
  }
  const within = `a day within the data's span ${start}..${end}`;
  if (first !== null && (first <= start || first > end))
    throw new PjmConfigError('PJM_BACKTEST_START', first, `${within}, after its first day (the model needs earlier days to train on)`);
  if (last !== null && (last < start || last > end)) throw new PjmConfigError('PJM_BACKTEST_END', last, within);
  if (first !== null && last !== null && last < first) throw new PjmConfigError('PJM_BACKTEST_END', last, `a day on or after PJM_BACKTEST_START (${first})`);
  return { start: first, end: last, days };
}

/** The default LEAR calibration windows (PJM_LEAR_WINDOWS); see PjmModelSetting.learWindows. */
export const DEFAULT_LEAR_WINDOWS: readonly number[] = [56, 1092];

/** The default refit interval of a LEAR window: weekly up to half a year, every 8 weeks beyond (bench/lear-cadence.ts). */
export const defaultLearInterval = (window: number): number => (window <= 182 ? 7 : 56);

function learIntervals(env: Env, windows: readonly number[]): number[] {
  const text = nonEmpty(env, 'PJM_LEAR_RECALIBRATION_DAYS');
  if (text === undefined) return windows.map(defaultLearInterval);
  const days = text.split(',').map((d) => Number(d.trim()));
  if (days.some((d) => !Number.isInteger(d) || d < 1) || (days.length !== 1 && days.length !== windows.length)) {
    throw new PjmConfigError(
      'PJM_LEAR_RECALIBRATION_DAYS',
      text,
      `a whole number of days >= 1 for every LEAR window, or one per window of PJM_LEAR_WINDOWS (${windows.join(',')}), e.g. ${windows.map(defaultLearInterval).join(',')}`,
    );
  }
  return days.length === 1 ? windows.map(() => days[0]!) : days;
}

function modelSetting(env: Env): PjmModelSetting {
  const windowsText = nonEmpty(env, 'PJM_LEAR_WINDOWS') ?? DEFAULT_LEAR_WINDOWS.join(',');
  const learWindows = windowsText.split(',').map((w) => Number(w.trim()));
  if (learWindows.some((w) => !Number.isInteger(w) || w < 9) || new Set(learWindows).size !== learWindows.length) {
    throw new PjmConfigError(
      'PJM_LEAR_WINDOWS',
      windowsText,
      'a comma-separated list of distinct whole numbers of days, each at least 9 (e.g. 56,84 or 56,84,1092,1456)',
    );
  }
  const worse = nonEmpty(env, 'PJM_MODEL_MAX_WORSE');
  let maxWorse: number | null = 0.02;
  if (worse === 'off') maxWorse = null;
  else if (worse !== undefined) {
    maxWorse = Number(worse);
    if (!Number.isFinite(maxWorse) || maxWorse < 0)
      throw new PjmConfigError('PJM_MODEL_MAX_WORSE', worse, "a relative MAE margin, 0 or more (0.02 = 2 %), or 'off'");
  }
  return {
    families: oneOf(env, 'PJM_MODEL_FAMILIES', FAMILY_CHOICES, 'ensemble'),
    learWindows,
    learEveryDays: learIntervals(env, learWindows),
    maxWorse,
  };
}

/** A copy of the config safe to print or store: the API key is replaced by whether it is set. */
export function describePjmConfig(config: PjmConfig): Record<string, unknown> {
  const { api, ...rest } = config;
  return { ...rest, api: { ...api, key: api.key === null ? null : '<redacted>' } };
}

/** Makes JSON.stringify, console.log and util.inspect of the config show the redacted form. */
function withRedaction(config: PjmConfig): PjmConfig {
  const describe = (): Record<string, unknown> => describePjmConfig(config);
  Object.defineProperty(config, 'toJSON', { value: describe, enumerable: false });
  Object.defineProperty(config, inspect.custom, { value: describe, enumerable: false });
  return config;
}

/** Every EPT delivery day from `start` to `end` inclusive (YYYY-MM-DD). */
export function daysInRange(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end; d = addDays(d, 1)) out.push(d);
  return out;
}
