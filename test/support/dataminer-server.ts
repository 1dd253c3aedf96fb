// A local stand-in for the PJM Data Miner 2 API (node:http on 127.0.0.1, a free port) for tests:
// replays real rows (committed CSV excerpts turned into API items), speaks the same query
// parameters (startRow, rowCount, datetime ranges `MM/DD/YYYY HH:mmtoMM/DD/YYYY HH:mm`, pnode_id
// and area lists separated by ';'), pages with `links` rel=next, checks the subscription key
// header, and injects faults on demand: 429 with Retry-After, 500, a hanging response, a
// truncated page (fewer items than promised, or JSON cut mid-way) and malformed JSON.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export type Item = Record<string, string | number | boolean | null>;

export type Fault =
  | { readonly kind: '429'; readonly retryAfterSeconds?: number }
  | { readonly kind: '500' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'short-page' }
  | { readonly kind: 'cut-json' }
  | { readonly kind: 'malformed-json' };

export interface ScheduledFault {
  readonly fault: Fault;
  /** Only requests for this page's startRow (default any). */
  readonly startRow?: number;
  /** How many matching requests get the fault (default 1; Infinity for always). */
  times: number;
}

export interface RequestRecord {
  readonly feed: string;
  readonly query: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  readonly status: number | 'hang';
}

export interface DataMinerServer {
  /** Base URL to use as PJM_API_BASE, ending in /api/v1/. */
  readonly baseUrl: string;
  readonly requests: RequestRecord[];
  /** Schedules a fault for the next matching request(s). */
  inject(fault: Fault, options?: { startRow?: number; times?: number }): void;
  /** Drops every scheduled fault. */
  clearFaults(): void;
  close(): Promise<void>;
}

/** "5/1/2025 4:00:00 AM" -> "2025-05-01T04:00:00" (the API's JSON form). */
export function dataMinerCsvTimestampToIso(s: string): string {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/.exec(s.trim());
  if (m === null) throw new Error(`Not a Data Miner timestamp: ${JSON.stringify(s)}`);
  const [, mo = '', d = '', y = '', h = '', mi = '', se = '', ap = ''] = m;
  const hour = (Number(h) % 12) + (ap === 'PM' ? 12 : 0);
  const p = (x: string | number): string => String(x).padStart(2, '0');
  return `${y}-${p(mo)}-${p(d)}T${p(hour)}:${mi}:${se}`;
}

/** Reads a Data Miner CSV export (CRLF, unquoted) into API-shaped items. */
export function itemsFromDataMinerCsv(path: string): Item[] {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '');
  const header = (lines[0] ?? '').split(',');
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    const item: Item = {};
    header.forEach((name, i) => {
      const v = cells[i] ?? '';
      if (name.startsWith('datetime_') || name.startsWith('evaluated_at_') || name.startsWith('forecast_datetime_')) item[name] = dataMinerCsvTimestampToIso(v);
      else if (v === '') item[name] = null;
      else if (v === 'True' || v === 'False') item[name] = v === 'True';
      else if (/^-?\d+(\.\d+)?$/.test(v) && name !== 'zone') item[name] = Number(v);
      else item[name] = v;
    });
    return item;
  });
}

/** Parses `MM/DD/YYYY HH:mmtoMM/DD/YYYY HH:mm` into ISO bounds (inclusive). */
function parseRange(v: string): [string, string] | null {
  const parts = v.split('to');
  if (parts.length !== 2) return null;
  const iso = (s: string): string | null => {
    const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})$/.exec(s.trim());
    if (m === null) return null;
    const p = (x: string | undefined): string => String(x).padStart(2, '0');
    return `${m[3]}-${p(m[1])}-${p(m[2])}T${p(m[4])}:${m[5]}:00`;
  };
  const a = iso(parts[0] ?? '');
  const b = iso(parts[1] ?? '');
  return a === null || b === null ? null : [a, b];
}

const RANGE_FIELDS = ['datetime_beginning_ept', 'datetime_beginning_utc', 'forecast_datetime_beginning_ept', 'evaluated_at_datetime_ept'];
const LIST_FIELDS = ['pnode_id', 'load_area', 'forecast_area', 'zone', 'type'];

export async function startDataMinerServer(options: { key: string; feeds: Readonly<Record<string, readonly Item[]>> }): Promise<DataMinerServer> {
  const requests: RequestRecord[] = [];
  const faults: ScheduledFault[] = [];
  const hanging = new Set<ServerResponse>();

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const feed = url.pathname.replace(/^\/api\/v1\//, '');
    const key = req.headers['ocp-apim-subscription-key'];
    const keyText = Array.isArray(key) ? key[0] : key;
    const record = (status: number | 'hang'): void => void requests.push({ feed, query, key: keyText, status });
    if (keyText !== options.key) {
      record(401);
      send(res, 401, JSON.stringify({ statusCode: 401, message: 'Access denied due to invalid subscription key.' }));
      return;
    }
    const rows = options.feeds[feed];
    if (rows === undefined) {
      record(404);
      send(res, 404, JSON.stringify({ statusCode: 404, message: `Resource not found: ${feed}` }));
      return;
    }
    const startRow = Number(query['startRow'] ?? '1');
    const rowCount = Number(query['rowCount'] ?? '25');
    if (!Number.isInteger(startRow) || startRow < 1 || !Number.isInteger(rowCount) || rowCount < 1 || rowCount > 50_000) {
      record(400);
      send(res, 400, JSON.stringify({ errors: [{ field: 'startRow/rowCount', message: 'must be positive integers, rowCount <= 50000' }] }));
      return;
    }
    let matched = rows.filter(() => true);
    for (const f of RANGE_FIELDS) {
      const v = query[f];
      if (v === undefined) continue;
      const r = parseRange(v);
      if (r === null) {
        record(400);
        send(res, 400, JSON.stringify({ errors: [{ field: f, message: `bad range ${v}` }] }));
        return;
      }
      matched = matched.filter((it) => typeof it[f] === 'string' && (it[f] as string) >= r[0] && (it[f] as string) <= r[1]);
    }
    for (const f of LIST_FIELDS) {
      const v = query[f];
      if (v === undefined) continue;
      const allowed = new Set(v.split(';').map((s) => s.trim()));
      matched = matched.filter((it) => allowed.has(String(it[f])));
    }
    const totalRows = matched.length;
    const items = matched.slice(startRow - 1, startRow - 1 + rowCount);
    const links: { rel: string; href: string }[] = [{ rel: 'self', href: `${origin()}${req.url ?? ''}` }];
    if (startRow - 1 + rowCount < totalRows) {
      const next = new URL(req.url ?? '/', origin());
      next.searchParams.set('startRow', String(startRow + rowCount));
      links.push({ rel: 'next', href: next.toString() });
    }
    const body = JSON.stringify({ items, links, totalRows });

    const i = faults.findIndex((f) => f.times > 0 && (f.startRow === undefined || f.startRow === startRow));
    const fault = i >= 0 ? faults[i] : undefined;
    if (fault !== undefined) {
      fault.times -= 1;
      switch (fault.fault.kind) {
        case '429':
          record(429);
          send(res, 429, JSON.stringify({ statusCode: 429, message: 'Rate limit is exceeded.' }), {
            'retry-after': String(fault.fault.retryAfterSeconds ?? 0),
          });
          return;
        case '500':
          record(500);
          send(res, 500, JSON.stringify({ statusCode: 500, message: 'Internal server error' }));
          return;
        case 'hang':
          record('hang');
          hanging.add(res);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(body.slice(0, 10)); // headers and a first chunk, then nothing
          return;
        case 'short-page':
          record(200);
          send(res, 200, JSON.stringify({ items: items.slice(0, Math.floor(items.length / 2)), links, totalRows }));
          return;
        case 'cut-json':
          record(200);
          send(res, 200, body.slice(0, Math.floor(body.length / 2)));
          return;
        case 'malformed-json':
          record(200);
          send(res, 200, '<html><body>Service temporarily unavailable</body></html>');
          return;
      }
    }
    record(200);
    send(res, 200, body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = (): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin()}/api/v1/`,
    requests,
    inject(fault, o = {}) {
      faults.push({ fault, ...(o.startRow === undefined ? {} : { startRow: o.startRow }), times: o.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
