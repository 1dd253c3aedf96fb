// The `da_prices_posted` sensor against the local Data Miner 2 protocol server, replaying
// real day-ahead rows of the 12 hubs (test/fixtures/pjm/hubs_da_hrl_lmps.csv, May 2025).
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadPjmConfig } from '../../assets/pjm/config.ts';
import { daPricesPostedSensor, pjmSensors } from '../../assets/pjm/sensors.ts';
import { runSensor } from '../../runtime/automation/sensors.ts';
import { runTick } from '../../runtime/automation/tick.ts';
import { dailyPartitions, Instance, materialize, type AssetKey } from '../../runtime/index.ts';
import { pjmDefinitions } from '../../assets/definitions.ts';
import { tempDir } from '../support/tmp.ts';
import { DateTime } from 'luxon';
import { itemsFromDataMinerCsv, startDataMinerServer, type DataMinerServer, type Item } from '../support/dataminer-server.ts';

const KEY = 'sensor-key';
const da = itemsFromDataMinerCsv(fileURLToPath(new URL('../fixtures/pjm/hubs_da_hrl_lmps.csv', import.meta.url)));
const HUBS = [...new Set(da.map((r) => Number(r['pnode_id'])))];
let server: DataMinerServer;

const config = () =>
  loadPjmConfig(
    {
      PJM_SOURCE: 'dataminer-api',
      PJM_API_KEY: KEY,
      PJM_NODES: HUBS.join(','),
      PJM_MARKETS: 'da',
      PJM_START: '2025-04-01',
      PJM_END: '2025-04-29',
      PJM_API_BASE: server.baseUrl,
      PJM_API_RATE_LIMIT: '600',
    },
    new Date('2025-04-30T12:00:00Z'),
  );
// The raw prices' days on the live clock (PJM_END unset): through the next delivery day.
const LIVE_DAYS = dailyPartitions({ start: '2025-04-01', endOffset: 2 });
const sensor = (days = LIVE_DAYS) => daPricesPostedSensor(config(), days, { client: { pageSize: 100, maxAttempts: 1, backoffBaseMs: 1 } });
const at = (iso: string, cursor?: string, days = LIVE_DAYS) => runSensor(sensor(days), { cursor, now: new Date(iso), resources: {} }, 10_000);

test.before(async () => {
  server = await startDataMinerServer({ key: KEY, feeds: { da_hrl_lmps: da } });
});
test.after(async () => server.close());

test("on the afternoon of Apr 30 EPT, the posted DA prices of May 1 request exactly the 12 hubs' raw price partitions of May 1", async () => {
  const r = await at('2025-04-30T18:00:00Z');
  assert.ok(r.ok, JSON.stringify(r));
  if (!r.ok) return;
  assert.is(r.result.cursor, '2025-05-01');
  assert.is(r.result.runRequests.length, 1);
  const q = r.result.runRequests[0]!;
  assert.is(q.selection, 'pjm/raw/prices');
  assert.equal(
    q.partitions,
    HUBS.map((id) => `${id}|2025-05-01`),
  );
  assert.is(q.reason, `day-ahead prices of 2025-05-01 posted for 12 of 12 nodes`);
  assert.ok(server.requests.every((x) => x.feed === 'da_hrl_lmps' && x.key === KEY));
});

test('a day not posted yet requests nothing and says so; a day already requested does not ask the API', async () => {
  const none = await at('2025-06-10T18:00:00Z');
  assert.equal(none, { ok: true, result: { runRequests: [], skipReason: 'day-ahead prices of 2025-06-11 are not posted yet (0 of 12 nodes)' } });
  const before = server.requests.length;
  const done = await at('2025-04-30T19:00:00Z', '2025-05-01');
  assert.equal(done, { ok: true, result: { runRequests: [], skipReason: 'day-ahead prices of 2025-05-01 were already requested' } });
  assert.is(server.requests.length, before);
});

test('an API failure is a failed evaluation with the Data Miner message, not an exception', async () => {
  server.inject({ kind: '500' }, { times: Infinity });
  const r = await at('2025-04-30T18:00:00Z');
  server.clearFaults();
  assert.is(r.ok, false);
  if (!r.ok) assert.match(r.error, /^sensor da_prices_posted failed: PJM Data Miner feed da_hrl_lmps, page 1: /);
});

test('the sensor exists only on the live source', () => {
  assert.equal(
    pjmSensors(config(), LIVE_DAYS).map((s) => s.name),
    ['da_prices_posted'],
  );
  assert.equal(pjmSensors(loadPjmConfig({}, new Date('2025-04-30T12:00:00Z')), LIVE_DAYS), []);
});

test("a day past the raw prices' last day (PJM_END) is not asked for, and the sensor says why", async () => {
  const before = server.requests.length;
  const r = await at('2025-04-30T18:00:00Z', undefined, dailyPartitions({ start: '2025-04-01', end: '2025-04-29' }));
  assert.equal(r, {
    ok: true,
    result: {
      runRequests: [],
      skipReason:
        "2025-05-01 is not a day of pjm/raw/prices (daily from 2025-04-01 to 2025-04-29): Partition 2025-05-01 is outside this asset's partitions (2025-04-01 to 2025-04-29). Unset PJM_END to follow the clock.",
    },
  });
  assert.is(server.requests.length, before);
});

/** The fixture's rows of 2025-05-01 moved to `day`: the same EPT hours (UTC recomputed), as if PJM had just posted `day`. */
function postedOn(day: string): Item[] {
  return da
    .filter((it) => String(it['datetime_beginning_ept']).startsWith('2025-05-01T'))
    .map((it) => {
      const ept = `${day}${String(it['datetime_beginning_ept']).slice(10)}`;
      const utc = DateTime.fromISO(ept, { zone: 'America/New_York' }).toUTC().toISO({ includeOffset: false, suppressMilliseconds: true })!;
      return { ...it, datetime_beginning_ept: ept, datetime_beginning_utc: utc };
    });
}

// The definitions read the real clock (the live window ends yesterday), so these run on it too.
const tomorrow = DateTime.now().setZone('America/New_York').plus({ days: 1 }).toISODate()!;
const liveDir = tempDir('sensor-tick');
const liveEnv = () => ({
  PJM_SOURCE: 'dataminer-api',
  PJM_API_KEY: KEY,
  PJM_NODES: HUBS.join(','),
  PJM_MARKETS: 'da',
  PJM_API_DAYS: '3',
  PJM_API_BASE: server.baseUrl,
  PJM_API_RATE_LIMIT: '6000',
});

test('on the live clock the raw prices have the next delivery day; before it posts, its partition is empty, not a failure', async () => {
  const instance = await Instance.open(await pjmDefinitions(liveEnv(), { dataDir: liveDir }), { dataDir: liveDir });
  try {
    const key = `${HUBS[0]}|${tomorrow}`;
    const r = await materialize(instance, { selection: 'pjm/raw/prices', partitions: key, trigger: 'test' });
    assert.is(r.status, 'succeeded', JSON.stringify(r.failures));
    const m = (await instance.store.materialization((await instance.store.current('pjm/raw/prices' as AssetKey, key))!.id))!.metadata;
    assert.is(m['rowCount'], 0);
    assert.is(m['published'], `not yet: ${tomorrow} has not ended and Data Miner has no LMP rows of node ${HUBS[0]} for it`);
  } finally {
    await instance.close();
  }
});

test('a tick on the live clock (no PJM_END): the request for the next delivery day names raw price partitions that exist, and its run fetches them', async () => {
  const now = new Date();
  da.push(...postedOn(tomorrow));
  const instance = await Instance.open(await pjmDefinitions(liveEnv(), { dataDir: liveDir }), { dataDir: liveDir });
  try {
    const tick = await runTick(instance, { now });
    const sensorTick = tick.ticks.find((t) => t.kind === 'sensor');
    assert.ok(sensorTick, JSON.stringify(tick.ticks));
    assert.equal(
      sensorTick.requested.map((q) => [q.outcome, q.partitions?.length, q.detail ?? null]),
      [['launched', 12, null]],
    );
    assert.equal(
      tick.runs.map((r) => r.status),
      ['succeeded'],
    );
    // Each hub's 24 hours, the one read empty before included: a source's trailing days are re-read.
    for (const id of HUBS) {
      const c = await instance.store.current('pjm/raw/prices' as AssetKey, `${id}|${tomorrow}`);
      assert.is(c && (await instance.store.materialization(c.id))!.metadata['rowCount'], 24, `raw prices of ${id} on ${tomorrow}`);
    }
  } finally {
    await instance.close();
  }
});

test.run();
