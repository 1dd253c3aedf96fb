// Source 'dataminer-api': a client of the live PJM Data Miner 2 API that fetches one EPT day of
// a feed and either returns every row or throws a DataMinerError naming the feed, the page and
// what went wrong, so that a raw partition is written only when every page arrived.
//
// Protocol relied on (from PJM's Data Miner 2 API as used by public clients, e.g. gridstatus'
// pjm.py `_get_pjm_json` and several R/Python scripts; not from PJM's own guide, which was not
// available here):
// - GET {base}{feed}?startRow=1&rowCount=N&<field filters>, header Ocp-Apim-Subscription-Key.
//   startRow is 1-based. A datetime filter is a range `MM/DD/YYYY HH:mmtoMM/DD/YYYY HH:mm`, end
//   inclusive (so one EPT day is 00:00 to 23:59, which includes both fall-back 01:00 hours).
// - Response JSON: { items: [...rows...], totalRows: number, links: [{ rel, href }, ...] }; the
//   link with rel "next" is the absolute URL of the following page. Rows carry the feed's fields
//   by name; timestamps are ISO strings without zone (e.g. "2025-05-01T04:00:00").
// - Non-members may make 6 requests a minute; excess requests get 429 (with Retry-After).
// Assumed, not confirmed: several pnode ids (or areas) in one filter are separated by ';'. The
// client also keeps only rows of the requested ids, so a server that ignores the list cannot add
// foreign rows.
import { writeFile } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PjmApiConfig } from '../config.ts';
import { DATAMINER_CSV_TIMESTAMP, sqlIdent, useUtc } from './raw.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export type DataMinerFeed = 'rt_hrl_lmps' | 'da_hrl_lmps' | 'load_frcstd_7_day' | 'hrl_load_metered';
export const DATAMINER_FEEDS: readonly DataMinerFeed[] = ['rt_hrl_lmps', 'da_hrl_lmps', 'load_frcstd_7_day', 'hrl_load_metered'];

export type DataMinerItem = Readonly<Record<string, unknown>>;

/** Why a fetch failed. Retryable reasons are retried up to maxAttempts before they surface. */
export type DataMinerFailure =
  | 'http_status' // a non-retryable status (400, 401, 403, 404, ...)
  | 'retries_exhausted' // 429 / 5xx / timeout / network / truncated / malformed, on every attempt
  | 'connection_failed' // refused, unknown host or TLS failure: retrying in seconds would not help
  | 'bad_response' // valid JSON but not { items, totalRows } or inconsistent paging
  | 'missing_next_link';

export class DataMinerError extends Error {
  override readonly name = 'DataMinerError';
  constructor(
    readonly feed: DataMinerFeed,
    /** 1-based page number. */
    readonly page: number,
    readonly reason: DataMinerFailure,
    detail: string,
    /** The last problem of each attempt, oldest first. */
    readonly attempts: readonly string[] = [],
  ) {
    super(`PJM Data Miner feed ${feed}, page ${page}: ${detail}`);
  }
}

/** A retryable problem with one attempt at one page. */
class AttemptFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
    /** The request never reached an HTTP server (refused, unknown host, TLS). */
    readonly connection = false,
  ) {
    super(message);
  }
}

/**
 * Socket and TLS error codes that mean "this URL cannot be reached as configured": a refused
 * port, a host name that does not resolve, a certificate or protocol mismatch. Retrying these
 * for minutes only delays the message (issue 16: 90 s to say "fetch failed"). A reset or a
 * temporary DNS failure (EAI_AGAIN) stays retryable.
 */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ERR_INVALID_URL']);
const isTlsCode = (code: string): boolean =>
  code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.includes('CERT') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'EPROTO';

/** The innermost cause of a fetch failure (undici wraps the socket error in `TypeError: fetch failed`). */
export function networkCause(err: unknown): { code: string | undefined; message: string } {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error && e.cause !== undefined; i++) e = e.cause;
  const inner = e instanceof Error ? e : new Error(String(e));
  // A host with several addresses fails with an AggregateError of per-address errors.
  const first = inner instanceof AggregateError ? (inner.errors[0] as (Error & { code?: string }) | undefined) : undefined;
  const code = (inner as Error & { code?: unknown }).code ?? first?.code;
  return { code: typeof code === 'string' ? code : undefined, message: inner.message || first?.message || String(err) };
}

/** Whether a network cause means the URL is unreachable as configured (not worth retrying). */
export function isConnectionFailure(code: string | undefined): boolean {
  return code !== undefined && (CONNECTION_CODES.has(code) || isTlsCode(code));
}

/** A request URL as it may be printed: query parameters that could hold a secret are masked. */
export function printableUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const k of [...u.searchParams.keys()]) if (/key|token|secret|sig|password/i.test(k)) u.searchParams.set(k, '<redacted>');
    if (u.password) u.password = '<redacted>';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

export interface DataMinerClientOptions extends PjmApiConfig {
  /** Rows per page (rowCount). PJM allows up to 50,000. */
  readonly pageSize?: number;
  /** First retry delay when the server gives no Retry-After; doubles per attempt (capped at 60 s). */
  readonly backoffBaseMs?: number;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds clock for the rate limiter. */
  readonly now?: () => number;
  /** Called once per request, without the key: for logs and tests. */
  readonly onRequest?: (event: { feed: DataMinerFeed; page: number; attempt: number; url: string }) => void;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** At most `perMinute` acquisitions in any 60-second window. */
export class RateLimiter {
  private readonly stamps: number[] = [];
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {
    if (!(perMinute > 0)) throw new Error(`RateLimiter: requests per minute must be positive, got ${perMinute}`);
  }

  /** Waits until one more request fits in the window, then records it. */
  async acquire(): Promise<void> {
    const cap = Math.max(1, Math.floor(this.perMinute));
    const window = (60_000 * cap) / this.perMinute;
    for (;;) {
      const t = this.now();
      while (this.stamps.length > 0 && (this.stamps[0] ?? 0) <= t - window) this.stamps.shift();
      if (this.stamps.length < cap) {
        this.stamps.push(t);
        return;
      }
      await this.sleep((this.stamps[0] ?? t) + window - t);
    }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null || value.trim() === '') return null;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const d = Date.parse(value);
  return Number.isNaN(d) ? null : Math.max(0, d - nowMs);
}

/** `MM/DD/YYYY 00:00toMM/DD/YYYY 23:59`: the whole EPT day `day` (YYYY-MM-DD) as a Data Miner range. */
export function eptDayRange(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (m === null) throw new Error(`eptDayRange: day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const d = `${m[2]}/${m[3]}/${m[1]}`;
  return `${d} 00:00to${d} 23:59`;
}

export interface DayFilter {
  /** pnode ids (LMP feeds). */
  readonly pnodeIds?: readonly number[];
  /** Load areas (load feeds): load_area of hrl_load_metered, forecast_area of load_frcstd_7_day. */
  readonly areas?: readonly string[];
}

/** Query parameters (without paging) selecting one EPT day of `feed`. */
export function dayQuery(feed: DataMinerFeed, day: string, filter: DayFilter = {}): Record<string, string> {
  const range = eptDayRange(day);
  switch (feed) {
    case 'rt_hrl_lmps':
    case 'da_hrl_lmps':
      return { datetime_beginning_ept: range, ...(filter.pnodeIds && filter.pnodeIds.length > 0 ? { pnode_id: filter.pnodeIds.join(';') } : {}) };
    case 'hrl_load_metered':
      return { datetime_beginning_ept: range, ...(filter.areas && filter.areas.length > 0 ? { load_area: filter.areas.join(';') } : {}) };
    case 'load_frcstd_7_day':
      return { forecast_datetime_beginning_ept: range, ...(filter.areas && filter.areas.length > 0 ? { forecast_area: filter.areas.join(';') } : {}) };
  }
}

interface Page {
  readonly items: DataMinerItem[];
  readonly totalRows: number;
  readonly next: string | null;
}

export class DataMinerClient {
  private readonly limiter: RateLimiter;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly pageSize: number;

  constructor(private readonly options: DataMinerClientOptions) {
    if (options.key === null || options.key === '') {
      throw new Error('The PJM Data Miner API needs a subscription key: set PJM_API_KEY (register at https://dataminer2.pjm.com).');
    }
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? Date.now;
    this.limiter = new RateLimiter(options.requestsPerMinute, this.now, this.sleep);
    this.pageSize = options.pageSize ?? 50_000;
  }

  /** Every row of one EPT day of `feed` (only rows of the requested pnode ids / areas). */
  async fetchDay(feed: DataMinerFeed, day: string, filter: DayFilter = {}): Promise<DataMinerItem[]> {
    const items = await this.fetchAll(feed, dayQuery(feed, day, filter));
    const ids =
      filter.pnodeIds && filter.pnodeIds.length > 0 && (feed === 'rt_hrl_lmps' || feed === 'da_hrl_lmps') ? new Set(filter.pnodeIds.map(String)) : null;
    const areaKey = feed === 'hrl_load_metered' ? 'load_area' : feed === 'load_frcstd_7_day' ? 'forecast_area' : null;
    const areas = areaKey !== null && filter.areas && filter.areas.length > 0 ? new Set(filter.areas) : null;
    return items.filter((it) => (ids === null || ids.has(String(it['pnode_id']))) && (areas === null || areaKey === null || areas.has(String(it[areaKey]))));
  }

  /** Every row matching `query`, following rel=next links until totalRows rows are read. */
  async fetchAll(feed: DataMinerFeed, query: Readonly<Record<string, string>>): Promise<DataMinerItem[]> {
    const first = new URL(feed, this.options.baseUrl);
    first.searchParams.set('startRow', '1');
    first.searchParams.set('rowCount', String(this.pageSize));
    for (const [k, v] of Object.entries(query)) first.searchParams.set(k, v);
    const out: DataMinerItem[] = [];
    let url: string | null = first.toString();
    let total: number | null = null;
    for (let page = 1; url !== null; page++) {
      const p = await this.fetchPage(feed, page, url, total === null ? null : Math.min(this.pageSize, total - out.length));
      if (total !== null && p.totalRows !== total) {
        throw new DataMinerError(
          feed,
          page,
          'bad_response',
          `totalRows changed from ${total} to ${p.totalRows} while paging (the data changed upstream); fetch the day again.`,
        );
      }
      total = p.totalRows;
      out.push(...p.items);
      if (out.length > total) {
        throw new DataMinerError(feed, page, 'bad_response', `read ${out.length} rows but totalRows is ${total}; the pages overlap. Fetch the day again.`);
      }
      if (out.length === total) break;
      if (p.next === null) {
        throw new DataMinerError(
          feed,
          page,
          'missing_next_link',
          `only ${out.length} of ${total} rows read and the response has no links entry with rel "next".`,
        );
      }
      url = new URL(p.next, this.options.baseUrl).toString();
    }
    return out;
  }

  /**
   * One page, retried on 429, 5xx, timeouts, network errors, cut or malformed bodies and short
   * pages. `expected` is how many items this page must hold when known (pages after the first).
   */
  private async fetchPage(feed: DataMinerFeed, page: number, url: string, expected: number | null): Promise<Page> {
    const problems: string[] = [];
    const maxAttempts = Math.max(1, this.options.maxAttempts);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      await this.limiter.acquire();
      this.options.onRequest?.({ feed, page, attempt, url });
      try {
        return await this.attempt(url, expected);
      } catch (e) {
        const f = e instanceof AttemptFailure ? e : new AttemptFailure(`network error: ${(e as Error).message}`, true);
        problems.push(f.message);
        if (f.connection)
          throw new DataMinerError(feed, page, 'connection_failed', `${f.message}. Check PJM_API_BASE and that the host is reachable from here.`, problems);
        if (!f.retryable) throw new DataMinerError(feed, page, 'http_status', `${f.message}.`, problems);
        if (attempt === maxAttempts) break;
        const backoff = Math.min(60_000, (this.options.backoffBaseMs ?? 2_000) * 2 ** (attempt - 1));
        await this.sleep(f.retryAfterMs ?? backoff);
      }
    }
    throw new DataMinerError(
      feed,
      page,
      'retries_exhausted',
      `failed ${problems.length} times (${problems.join('; ')}). Nothing was returned for this request; retry later.`,
      problems,
    );
  }

  private async attempt(url: string, expected: number | null): Promise<Page> {
    let res: Response;
    let text: string;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      res = await this.fetchImpl(url, { headers: { 'Ocp-Apim-Subscription-Key': this.options.key ?? '', Accept: 'application/json' }, signal });
      if (res.status === 429 || res.status >= 500) {
        await res.body?.cancel().catch(() => undefined);
        throw new AttemptFailure(`HTTP ${res.status}`, true, parseRetryAfter(res.headers.get('retry-after'), this.now()));
      }
      if (!res.ok) {
        const body = (await res.text().catch(() => '')).slice(0, 200);
        const hint = res.status === 401 || res.status === 403 ? ' (check PJM_API_KEY)' : '';
        throw new AttemptFailure(`HTTP ${res.status}${hint}${body ? `: ${body}` : ''}`, false);
      }
      text = await res.text();
    } catch (e) {
      if (e instanceof AttemptFailure) throw e;
      const err = e as Error;
      if (err.name === 'TimeoutError' || err.name === 'AbortError' || signal.aborted) {
        throw new AttemptFailure(`no complete response within ${this.options.timeoutMs} ms`, true);
      }
      const cause = networkCause(err);
      const what = `${cause.message}${cause.code && !cause.message.includes(cause.code) ? ` (${cause.code})` : ''}`;
      if (isConnectionFailure(cause.code)) throw new AttemptFailure(`cannot connect to ${printableUrl(url)}: ${what}`, false, null, true);
      throw new AttemptFailure(`network error on ${printableUrl(url)}: ${what}`, true);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      // A cut body and a garbled one look alike; both are retried, both end in a clear error.
      throw new AttemptFailure(`malformed JSON (${text.length} bytes: ${(e as Error).message})`, true);
    }
    const body = json as { items?: unknown; totalRows?: unknown; links?: unknown };
    if (typeof json !== 'object' || json === null || !Array.isArray(body.items) || typeof body.totalRows !== 'number') {
      throw new AttemptFailure(`response is not { items: [...], totalRows: number } (got ${text.slice(0, 120)})`, true);
    }
    const items = body.items as DataMinerItem[];
    const totalRows = body.totalRows;
    const want = expected ?? Math.min(this.pageSize, totalRows);
    if (items.length < want) {
      throw new AttemptFailure(`truncated page: ${items.length} items where ${want} were due (totalRows ${totalRows})`, true);
    }
    const links = Array.isArray(body.links) ? (body.links as { rel?: unknown; href?: unknown }[]) : [];
    const next = links.find((l) => l?.rel === 'next' && typeof l.href === 'string');
    return { items, totalRows, next: next === undefined ? null : String(next.href) };
  }
}

/** Day-level failures worth another try minutes later (the upstream was busy or changed while paging). */
const DAY_RETRYABLE: ReadonlySet<DataMinerFailure> = new Set<DataMinerFailure>(['retries_exhausted', 'bad_response', 'missing_next_link']);

export interface DayRetryOptions {
  /** Attempts in all (default 3). */
  readonly attempts?: number;
  /** Delay before the second attempt; doubles each time (default 30 s). */
  readonly backoffMs?: number;
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly onRetry?: (event: { attempt: number; error: DataMinerError; delayMs: number }) => void;
}

const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Runs a whole-day fetch again, with backoff, when it failed for a reason that time may cure
 * (DAY_RETRYABLE). A refused connection, an unknown host, a TLS failure or a 4xx fails at once:
 * the step says what is wrong in seconds, not after minutes of retries.
 */
export async function withDayRetries<T>(fetchDay: () => Promise<T>, options: DayRetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchDay();
    } catch (e) {
      if (!(e instanceof DataMinerError) || !DAY_RETRYABLE.has(e.reason) || attempt >= attempts || options.signal?.aborted) throw e;
      const delayMs = (options.backoffMs ?? 30_000) * 2 ** (attempt - 1);
      options.onRetry?.({ attempt, error: e, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Writes fetched rows as newline-delimited JSON: the raw partition file of the API source. */
export async function writeItemsNdjson(items: readonly DataMinerItem[], path: string): Promise<void> {
  await writeFile(path, items.map((it) => JSON.stringify(it)).join('\n') + (items.length > 0 ? '\n' : ''));
}

/** A Data Miner timestamp as TIMESTAMP: ISO (API JSON) or `5/1/2025 4:00:00 AM` (CSV export). */
const ts = (col: string): string =>
  `coalesce(try_strptime(${col}, '%Y-%m-%dT%H:%M:%S'), try_strptime(${col}, '%Y-%m-%d %H:%M:%S'), try_strptime(${col}, ${sqlString(DATAMINER_CSV_TIMESTAMP)}))`;

const bool = (col: string): string => `(lower(CAST(${col} AS VARCHAR)) IN ('true', '1'))`;

/**
 * Registers NDJSON raw files of one feed as a temp view `relation` with the raw-LMP columns
 * (LMP feeds) or raw-load columns (load feeds) of raw.ts.
 */
export async function registerDataMinerNdjson(conn: DuckDBConnection, feed: DataMinerFeed, paths: readonly string[], relation: string): Promise<void> {
  if (paths.length === 0) throw new Error(`registerDataMinerNdjson: no files for feed ${feed}`);
  await useUtc(conn);
  const files = `[${paths.map(sqlString).join(', ')}]`;
  const read = (cols: Record<string, string>): string =>
    `read_json(${files}, format = 'newline_delimited', columns = {${Object.entries(cols)
      .map(([k, v]) => `${sqlString(k)}: ${sqlString(v)}`)
      .join(', ')}})`;
  let select: string;
  if (feed === 'rt_hrl_lmps' || feed === 'da_hrl_lmps') {
    const m = feed === 'rt_hrl_lmps' ? 'rt' : 'da';
    const cols: Record<string, string> = {
      datetime_beginning_utc: 'VARCHAR',
      datetime_beginning_ept: 'VARCHAR',
      pnode_id: 'BIGINT',
      pnode_name: 'VARCHAR',
      type: 'VARCHAR',
      zone: 'VARCHAR',
      [`system_energy_price_${m}`]: 'DOUBLE',
      [`total_lmp_${m}`]: 'DOUBLE',
      [`congestion_price_${m}`]: 'DOUBLE',
      [`marginal_loss_price_${m}`]: 'DOUBLE',
      row_is_current: 'VARCHAR',
      version_nbr: 'INTEGER',
    };
    select = `SELECT timezone('UTC', ${ts('datetime_beginning_utc')}) AS ts_utc, ${ts('datetime_beginning_ept')} AS ts_ept,
        pnode_id, pnode_name, type, nullif(zone, '') AS zone, '${m}' AS market,
        system_energy_price_${m} AS energy, total_lmp_${m} AS lmp, congestion_price_${m} AS congestion, marginal_loss_price_${m} AS loss,
        ${bool('row_is_current')} AS row_is_current, version_nbr, ${sqlString(`Data Miner API ${feed}`)} AS origin
      FROM ${read(cols)}`;
  } else if (feed === 'hrl_load_metered') {
    select = `SELECT timezone('UTC', ${ts('datetime_beginning_utc')}) AS ts_utc, load_area AS area, 'metered' AS kind, mw,
        CAST(NULL AS TIMESTAMPTZ) AS issued_utc, ${bool('is_verified')} AS is_verified
      FROM ${read({ datetime_beginning_utc: 'VARCHAR', load_area: 'VARCHAR', mw: 'DOUBLE', is_verified: 'VARCHAR' })}`;
  } else {
    select = `SELECT timezone('UTC', ${ts('forecast_datetime_beginning_utc')}) AS ts_utc, forecast_area AS area, 'forecast' AS kind,
        forecast_load_mw AS mw, timezone('UTC', ${ts('evaluated_at_datetime_utc')}) AS issued_utc, CAST(NULL AS BOOLEAN) AS is_verified
      FROM ${read({ evaluated_at_datetime_utc: 'VARCHAR', forecast_datetime_beginning_utc: 'VARCHAR', forecast_area: 'VARCHAR', forecast_load_mw: 'DOUBLE' })}`;
  }
  await conn.run(`CREATE OR REPLACE TEMP VIEW ${sqlIdent(relation)} AS ${select}`);
}
