// The live Data Miner 2 client against the local protocol server replaying real hub excerpts:
// paging by links, the key header, the rate limit, and every injected fault either retried to a
// complete result or turned into a clear error with nothing returned.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import {
  DataMinerClient,
  DataMinerError,
  RateLimiter,
  withDayRetries,
  dayQuery,
  eptDayRange,
  parseRetryAfter,
  registerDataMinerNdjson,
  writeItemsNdjson,
  type DataMinerClientOptions,
} from '../../assets/pjm/sources/dataminer-api.ts';
import { writeCanonicalPrices } from '../../assets/pjm/processed/prices.ts';
import { writeCanonicalLoad } from '../../assets/pjm/processed/load.ts';
import { itemsFromDataMinerCsv, startDataMinerServer, type DataMinerServer } from '../support/dataminer-server.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pjm/${name}`, import.meta.url));
const KEY = 'test-key-not-secret';
const rt = itemsFromDataMinerCsv(fixture('hubs_rt_hrl_lmps.csv'));
const da = itemsFromDataMinerCsv(fixture('hubs_da_hrl_lmps.csv'));
const load = itemsFromDataMinerCsv(fixture('aldene_hrl_load_metered.csv'));
const HUBS = [...new Set(rt.map((r) => Number(r['pnode_id'])))];

let server: DataMinerServer;
const client = (o: Partial<DataMinerClientOptions> = {}): DataMinerClient =>
  new DataMinerClient({ baseUrl: server.baseUrl, key: KEY, timeoutMs: 500, requestsPerMinute: 60_000, maxAttempts: 3, pageSize: 100, backoffBaseMs: 1, ...o });

test.before(async () => {
  server = await startDataMinerServer({ key: KEY, feeds: { rt_hrl_lmps: rt, da_hrl_lmps: da, hrl_load_metered: load } });
});
test.after(async () => server.close());
test.before.each(() => {
  server.requests.length = 0;
  server.clearFaults();
});

test('a day range is the whole EPT day, end inclusive, in the Data Miner format', () => {
  assert.is(eptDayRange('2025-05-01'), '05/01/2025 00:00to05/01/2025 23:59');
  assert.equal(dayQuery('rt_hrl_lmps', '2025-05-01', { pnodeIds: [51217, 51288] }), {
    datetime_beginning_ept: '05/01/2025 00:00to05/01/2025 23:59',
    pnode_id: '51217;51288',
  });
  assert.equal(dayQuery('load_frcstd_7_day', '2025-05-01', { areas: ['RTO'] }), {
    forecast_datetime_beginning_ept: '05/01/2025 00:00to05/01/2025 23:59',
    forecast_area: 'RTO',
  });
});

test('one day of 12 hubs arrives over 3 pages by following rel=next, with the key header', async () => {
  const items = await client().fetchDay('rt_hrl_lmps', '2025-05-01', { pnodeIds: HUBS });
  assert.is(items.length, 12 * 24);
  assert.is(server.requests.length, 3);
  assert.ok(server.requests.every((r) => r.key === KEY && r.status === 200));
  assert.equal(
    server.requests.map((r) => r.query['startRow']),
    ['1', '101', '201'],
  );
  assert.is(new Set(items.map((i) => `${i['pnode_id']} ${i['datetime_beginning_utc']}`)).size, 288);
});

test('a node filter returns only that node', async () => {
  const items = await client().fetchDay('da_hrl_lmps', '2025-05-02', { pnodeIds: [51217] });
  assert.is(items.length, 24);
  assert.ok(items.every((i) => i['pnode_id'] === 51217));
});

test('429 with Retry-After is honoured and retried to a complete result', async () => {
  const sleeps: number[] = [];
  server.inject({ kind: '429', retryAfterSeconds: 7 }, { startRow: 101 });
  const items = await client({ sleep: async (ms) => void sleeps.push(ms) }).fetchDay('rt_hrl_lmps', '2025-05-01', { pnodeIds: HUBS });
  assert.is(items.length, 288);
  assert.equal(
    server.requests.map((r) => r.status),
    [200, 429, 200, 200],
  );
  assert.ok(sleeps.includes(7000), `slept ${sleeps.join(',')}`);
});

test('500 is retried with backoff', async () => {
  const sleeps: number[] = [];
  server.inject({ kind: '500' }, { times: 2 });
  const items = await client({ sleep: async (ms) => void sleeps.push(ms), backoffBaseMs: 10 }).fetchDay('da_hrl_lmps', '2025-05-01', { pnodeIds: HUBS });
  assert.is(items.length, 288);
  assert.equal(sleeps, [10, 20]);
});

test('a hanging response times out and is retried', async () => {
  server.inject({ kind: 'hang' });
  const items = await client({ timeoutMs: 200 }).fetchDay('da_hrl_lmps', '2025-05-01', { pnodeIds: HUBS });
  assert.is(items.length, 288);
  assert.is(server.requests[0]?.status, 'hang');
});

test('a short page (fewer items than promised) and cut JSON are retried', async () => {
  server.inject({ kind: 'short-page' }, { startRow: 201 });
  server.inject({ kind: 'cut-json' }, { startRow: 101 });
  const items = await client().fetchDay('rt_hrl_lmps', '2025-05-02', { pnodeIds: HUBS });
  assert.is(items.length, 288);
  assert.is(server.requests.length, 5);
});

test('persistent malformed JSON ends in an error naming feed, page and problem; nothing returned', async () => {
  server.inject({ kind: 'malformed-json' }, { startRow: 201, times: Infinity });
  let result: unknown = 'none';
  try {
    result = await client().fetchDay('rt_hrl_lmps', '2025-05-01', { pnodeIds: HUBS });
  } catch (e) {
    assert.instance(e, DataMinerError);
    const err = e as DataMinerError;
    assert.is(err.feed, 'rt_hrl_lmps');
    assert.is(err.page, 3);
    assert.is(err.reason, 'retries_exhausted');
    assert.match(err.message, /rt_hrl_lmps, page 3: failed 3 times \(malformed JSON/);
    assert.is(err.attempts.length, 3);
  }
  assert.is(result, 'none');
});

test('persistent 500 and persistent truncation fail after maxAttempts', async () => {
  const fresh = await startDataMinerServer({ key: KEY, feeds: { rt_hrl_lmps: rt } });
  try {
    fresh.inject({ kind: '500' }, { times: Infinity });
    const c = new DataMinerClient({
      baseUrl: fresh.baseUrl,
      key: KEY,
      timeoutMs: 500,
      requestsPerMinute: 60_000,
      maxAttempts: 2,
      pageSize: 100,
      backoffBaseMs: 1,
    });
    await c.fetchDay('rt_hrl_lmps', '2025-05-01').then(
      () => assert.unreachable('should have thrown'),
      (e: unknown) => {
        assert.instance(e, DataMinerError);
        assert.match((e as Error).message, /page 1: failed 2 times \(HTTP 500; HTTP 500\)/);
      },
    );
  } finally {
    await fresh.close();
  }
  const fresh2 = await startDataMinerServer({ key: KEY, feeds: { rt_hrl_lmps: rt } });
  try {
    fresh2.inject({ kind: 'short-page' }, { startRow: 101, times: Infinity });
    const c = new DataMinerClient({
      baseUrl: fresh2.baseUrl,
      key: KEY,
      timeoutMs: 500,
      requestsPerMinute: 60_000,
      maxAttempts: 2,
      pageSize: 100,
      backoffBaseMs: 1,
    });
    await c.fetchDay('rt_hrl_lmps', '2025-05-01').then(
      () => assert.unreachable('should have thrown'),
      (e: unknown) => assert.match((e as Error).message, /page 2: .*truncated page: 50 items where 100 were due/),
    );
  } finally {
    await fresh2.close();
  }
});

test('a wrong key is not retried: HTTP 401 names the key variable', async () => {
  const c = new DataMinerClient({ baseUrl: server.baseUrl, key: 'wrong', timeoutMs: 500, requestsPerMinute: 60_000, maxAttempts: 3, pageSize: 100 });
  await c.fetchDay('rt_hrl_lmps', '2025-05-01').then(
    () => assert.unreachable('should have thrown'),
    (e: unknown) => {
      assert.is((e as DataMinerError).reason, 'http_status');
      assert.match((e as Error).message, /HTTP 401 \(check PJM_API_KEY\)/);
    },
  );
  assert.is(server.requests.length, 1);
});

/** A loopback port nothing listens on: bound, then released. */
async function refusedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('a refused connection fails at once, naming the URL (never the key) and ECONNREFUSED', async () => {
  const port = await refusedPort();
  const sleeps: number[] = [];
  const c = new DataMinerClient({
    baseUrl: `http://127.0.0.1:${port}/api/v1/`,
    key: KEY,
    timeoutMs: 500,
    requestsPerMinute: 60_000,
    maxAttempts: 5,
    backoffBaseMs: 2_000,
    sleep: async (ms) => void sleeps.push(ms),
  });
  const err = (await c.fetchDay('da_hrl_lmps', '2025-05-01', { pnodeIds: [51217] }).catch((e: unknown) => e)) as DataMinerError;
  assert.instance(err, DataMinerError);
  assert.is(err.reason, 'connection_failed');
  assert.match(err.message, new RegExp(`cannot connect to http://127\\.0\\.0\\.1:${port}/api/v1/da_hrl_lmps\\?startRow=1`));
  assert.match(err.message, /ECONNREFUSED/);
  assert.match(err.message, /PJM_API_BASE/);
  assert.not.match(err.message, new RegExp(KEY));
  assert.equal(sleeps, [], 'no backoff for a refused connection');
  assert.is(err.attempts.length, 1);
  // and the day-level retry does not try it again either
  let calls = 0;
  const dayErr = await withDayRetries(
    () => {
      calls++;
      return c.fetchDay('da_hrl_lmps', '2025-05-01');
    },
    { sleep: async () => undefined },
  ).catch((e: unknown) => e);
  assert.instance(dayErr, DataMinerError);
  assert.is(calls, 1);
});

test('a TLS failure (https:// to a plain HTTP server) is a connection failure with its cause', async () => {
  const plain = createHttpServer((_req, res) => res.end('not TLS'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = plain.address() as AddressInfo;
    const c = new DataMinerClient({
      baseUrl: `https://127.0.0.1:${port}/api/v1/`,
      key: KEY,
      timeoutMs: 2_000,
      requestsPerMinute: 60_000,
      maxAttempts: 5,
      sleep: async () => undefined,
    });
    const err = (await c.fetchAll('rt_hrl_lmps', {}).catch((e: unknown) => e)) as DataMinerError;
    assert.instance(err, DataMinerError);
    assert.is(err.reason, 'connection_failed');
    assert.match(err.message, new RegExp(`cannot connect to https://127\\.0\\.0\\.1:${port}/api/v1/rt_hrl_lmps`));
    assert.match(err.message, /ERR_SSL_WRONG_VERSION_NUMBER|wrong version number/);
  } finally {
    plain.close();
  }
});

test('a day whose pages kept failing is fetched again after a backoff; a 401 is not', async () => {
  const c = client({ maxAttempts: 1 });
  server.inject({ kind: '500' }, { times: 1 });
  const delays: number[] = [];
  const items = await withDayRetries(() => c.fetchDay('da_hrl_lmps', '2025-05-01', { pnodeIds: HUBS }), {
    backoffMs: 30_000,
    sleep: async (ms) => void delays.push(ms),
  });
  assert.is(items.length, 288);
  assert.equal(delays, [30_000]);
  let calls = 0;
  const wrongKey = new DataMinerClient({ baseUrl: server.baseUrl, key: 'wrong', timeoutMs: 500, requestsPerMinute: 60_000, maxAttempts: 1 });
  await withDayRetries(
    () => {
      calls++;
      return wrongKey.fetchDay('da_hrl_lmps', '2025-05-01');
    },
    { sleep: async () => undefined },
  ).catch(() => undefined);
  assert.is(calls, 1);
});

test('the rate limiter allows N requests a minute and then waits', async () => {
  let now = 0;
  const waits: number[] = [];
  const limiter = new RateLimiter(
    6,
    () => now,
    async (ms) => {
      waits.push(ms);
      now += ms;
    },
  );
  for (let i = 0; i < 7; i++) await limiter.acquire();
  assert.equal(waits, [60_000]);
  now += 5_000;
  await limiter.acquire(); // second slot frees at 60 s as well: the first 6 were all at t=0
  assert.equal(waits, [60_000]);
});

test('the client rate-limits its own requests (6 a minute by default)', async () => {
  let now = 0;
  const waits: number[] = [];
  const c = client({
    requestsPerMinute: 2,
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
  });
  await c.fetchDay('rt_hrl_lmps', '2025-05-01', { pnodeIds: HUBS }); // 3 pages
  assert.equal(waits, [60_000]);
});

test('Retry-After accepts seconds and HTTP dates', () => {
  assert.is(parseRetryAfter('3', 0), 3000);
  assert.is(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.is(parseRetryAfter(null, 0), null);
});

test('fetched pages become a raw partition that the canonical SQL reads like the CSV', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pjm-api-'));
  try {
    const items = await client().fetchDay('rt_hrl_lmps', '2025-05-01', { pnodeIds: HUBS });
    await writeItemsNdjson(items, join(dir, 'rt.ndjson'));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await registerDataMinerNdjson(conn, 'rt_hrl_lmps', [join(dir, 'rt.ndjson')], 'api_rt');
    const w = await writeCanonicalPrices(conn, ['api_rt'], join(dir, 'p.parquet'), { day: '2025-05-01' });
    assert.is(w.rows, 288);
    const r = await conn.runAndReadAll(`SELECT strftime(min(ts_utc), '%Y-%m-%dT%H:%M:%SZ') AS lo, count(DISTINCT node_id) AS nodes,
      round(sum(lmp), 4) AS s FROM read_parquet('${join(dir, 'p.parquet')}')`);
    const row = r.getRowObjects()[0] ?? {};
    assert.is(row['lo'], '2025-05-01T04:00:00Z');
    assert.is(Number(row['nodes']), 12);
    const expected = rt.filter((i) => String(i['datetime_beginning_ept']).startsWith('2025-05-01')).reduce((s, i) => s + Number(i['total_lmp_rt']), 0);
    assert.ok(Math.abs(Number(row['s']) - expected) < 1e-3, `${row['s']} vs ${expected}`);
    conn.closeSync();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('load_frcstd_7_day items (built in code: no real excerpt) keep the latest forecast issued before the day', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pjm-api-fc-'));
  try {
    const item = (evaluated: string, target: string, mw: number) => ({
      evaluated_at_datetime_utc: evaluated,
      forecast_datetime_beginning_utc: target,
      forecast_area: 'RTO_COMBINED',
      forecast_load_mw: mw,
    });
    const fcServer = await startDataMinerServer({
      key: KEY,
      feeds: {
        load_frcstd_7_day: [
          { ...item('2025-04-30T14:00:00', '2025-05-02T04:00:00', 100), forecast_datetime_beginning_ept: '2025-05-02T00:00:00' },
          { ...item('2025-05-01T20:00:00', '2025-05-02T04:00:00', 110), forecast_datetime_beginning_ept: '2025-05-02T00:00:00' },
          { ...item('2025-05-02T05:00:00', '2025-05-02T04:00:00', 999), forecast_datetime_beginning_ept: '2025-05-02T00:00:00' },
          { ...item('2025-05-01T20:00:00', '2025-05-03T04:00:00', 130), forecast_datetime_beginning_ept: '2025-05-03T00:00:00' },
        ],
      },
    });
    try {
      const c = new DataMinerClient({ baseUrl: fcServer.baseUrl, key: KEY, timeoutMs: 500, requestsPerMinute: 60_000, maxAttempts: 2, pageSize: 2 });
      const items = await c.fetchDay('load_frcstd_7_day', '2025-05-02', { areas: ['RTO_COMBINED'] });
      assert.is(items.length, 3);
      assert.is(fcServer.requests[0]?.query['forecast_datetime_beginning_ept'], '05/02/2025 00:00to05/02/2025 23:59');
      await writeItemsNdjson(items, join(dir, 'fc.ndjson'));
      const conn = await (await DuckDBInstance.create(':memory:')).connect();
      await registerDataMinerNdjson(conn, 'load_frcstd_7_day', [join(dir, 'fc.ndjson')], 'api_fc');
      await writeCanonicalLoad(conn, ['api_fc'], join(dir, 'fc.parquet'), { day: '2025-05-02' });
      const r = await conn.runAndReadAll(`SELECT area, kind, mw FROM read_parquet('${join(dir, 'fc.parquet')}')`);
      assert.equal(r.getRowObjects(), [{ area: 'RTO_COMBINED', kind: 'forecast', mw: 110 }]);
      conn.closeSync();
    } finally {
      await fcServer.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('metered load for the spring-forward day: 23 hours, filtered by load_area, into canonical load', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'pjm-api-load-'));
  try {
    const items = await client().fetchDay('hrl_load_metered', '2026-03-08', { areas: ['AECO'] });
    assert.is(items.length, 23);
    assert.is(server.requests[0]?.query['load_area'], 'AECO');
    assert.is((await client().fetchDay('hrl_load_metered', '2026-03-08', { areas: ['RTO'] })).length, 0);
    await writeItemsNdjson(items, join(dir, 'load.ndjson'));
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    await registerDataMinerNdjson(conn, 'hrl_load_metered', [join(dir, 'load.ndjson')], 'api_load');
    assert.is((await writeCanonicalLoad(conn, ['api_load'], join(dir, 'l.parquet'), { day: '2026-03-08' })).rows, 23);
    const r = await conn.runAndReadAll(
      `SELECT count(*) FILTER (WHERE mw = 0)::INTEGER AS zeros, min(area) AS area FROM read_parquet('${join(dir, 'l.parquet')}')`,
    );
    assert.equal(r.getRowObjects()[0], { zeros: 1, area: 'AECO' });
    conn.closeSync();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
