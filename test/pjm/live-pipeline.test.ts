// Live mode end to end: the whole PJM pipeline (raw -> validated -> features -> model ->
// backtest -> forecast -> export) against the local Data Miner protocol server, over four hubs
// and 24 days with RT and DA prices, metered load and load forecasts (test/fixtures/pjm/
// hubs4-2025-05-live; no real load_frcstd_7_day excerpt exists, so the forecast items are built
// here from the metered rows, issued 30 hours before each hour). Then PJM revises an RT price
// of a day already fetched (a higher version_nbr), and the second run, which re-reads the last
// PJM_REVISION_DAYS days, restales exactly that node-day's downstream.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { pjmDefinitions } from '../../assets/definitions.ts';
import { Instance, materialize, type RunEvent } from '../../runtime/index.ts';
import { itemsFromDataMinerCsv, startDataMinerServer, type DataMinerServer, type Item } from '../support/dataminer-server.ts';
import { tempDir } from '../support/tmp.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/pjm/hubs4-2025-05-live/', import.meta.url));
const KEY = 'live-test-key';
const rt = itemsFromDataMinerCsv(`${FIXTURE}hubs4_rt_hrl_lmps.csv`);
const da = itemsFromDataMinerCsv(`${FIXTURE}hubs4_da_hrl_lmps.csv`);
const metered = itemsFromDataMinerCsv(`${FIXTURE}rto_hrl_load_metered.csv`);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
const forecasts: Item[] = metered.map((m) => ({
  evaluated_at_datetime_utc: iso(Date.parse(`${m['datetime_beginning_utc']}Z`) - 30 * 3_600_000),
  forecast_datetime_beginning_utc: m['datetime_beginning_utc']!,
  forecast_datetime_beginning_ept: m['datetime_beginning_ept']!,
  forecast_area: 'RTO',
  forecast_load_mw: Math.round(Number(m['mw'])),
}));

let server: DataMinerServer;
const dataDir = tempDir('live-pipeline');

test.before(async () => {
  server = await startDataMinerServer({ key: KEY, feeds: { rt_hrl_lmps: rt, da_hrl_lmps: da, hrl_load_metered: metered, load_frcstd_7_day: forecasts } });
});
test.after(async () => server.close());

async function run(): Promise<{ ran: string[]; changed: string[] }> {
  const env = {
    PJM_SOURCE: 'dataminer-api',
    PJM_API_KEY: KEY,
    PJM_API_BASE: server.baseUrl,
    PJM_API_RATE_LIMIT: '600000',
    PJM_START: '2025-05-01',
    PJM_END: '2025-05-24',
    PJM_NODES: '51217,51287,51288,4669664',
    PJM_MARKETS: 'rt,da',
    PJM_LOAD_AREAS: 'RTO',
    // The excerpt is from 2025: the live freshness check would (rightly) call it stale.
    PJM_FRESHNESS_HOURS: '100000000',
    PJM_BACKTEST_DAYS: '3',
    PJM_REVISION_DAYS: '3',
    DATA_DIR: dataDir,
  };
  const instance = await Instance.open(await pjmDefinitions(env, { dataDir }), { dataDir });
  try {
    const events: RunEvent[] = [];
    const r = await materialize(instance, { trigger: 'test', onEvent: (e) => void events.push(e) });
    assert.is(r.status, 'succeeded', JSON.stringify(r.failures.slice(0, 3)));
    const done = events.filter((e): e is Extract<RunEvent, { type: 'step_materialized' }> => e.type === 'step_materialized');
    return {
      ran: done.map((e) => `${e.asset}[${e.partition}]`).sort(),
      changed: done
        .filter((e) => !e.unchanged)
        .map((e) => `${e.asset}[${e.partition}]`)
        .sort(),
    };
  } finally {
    await instance.close();
  }
}

const lmpRequests = (from: number) => server.requests.slice(from).filter((q) => q.feed.endsWith('_hrl_lmps') && q.status === 200);

test('the whole pipeline over four hubs and 24 days, live: one LMP request per day and feed for all nodes', async () => {
  const first = await run();
  for (const asset of ['pjm/feature_set[]', 'pjm/model[]', 'pjm/backtest[]', 'pjm/forecast[]', 'pjm/model_export[]'])
    assert.ok(first.ran.includes(asset), asset);
  assert.is(first.ran.filter((s) => s.startsWith('pjm/features[')).length, 96);
  // Shared per day: 24 days x 2 feeds, not x 4 nodes (per node it would be 192: 32 minutes at PJM's 6 requests a minute).
  assert.is(lmpRequests(0).length, 48);
  const instance = await Instance.open(
    await pjmDefinitions(
      { PJM_SOURCE: 'dataminer-api', PJM_API_KEY: KEY, PJM_START: '2025-05-01', PJM_END: '2025-05-24', PJM_NODES: '51217', PJM_MARKETS: 'rt,da' },
      { dataDir },
    ),
    { dataDir },
  );
  try {
    const set = (await instance.store.materialization((await instance.store.current('pjm/feature_set' as never, ''))!.id))!.metadata['featureSet'] as {
      inputs: string[];
    };
    assert.equal(set.inputs, ['price_lags', 'da_price', 'load_forecast', 'load_metered'], 'RT, DA, load forecasts and metered load all used');
  } finally {
    await instance.close();
  }
});

test('PJM revises an already-fetched RT hour: the next run restales exactly that node-day and its downstream', async () => {
  // 2025-05-23 08:00 EPT at WESTERN HUB: version 2 replaces version 1.
  const i = rt.findIndex((it) => it['pnode_id'] === 51288 && it['datetime_beginning_ept'] === '2025-05-23T08:00:00');
  assert.ok(i >= 0);
  const old = rt[i]!;
  rt[i] = { ...old, row_is_current: false };
  rt.push({
    ...old,
    version_nbr: Number(old['version_nbr']) + 1,
    total_lmp_rt: Number(old['total_lmp_rt']) + 12.5,
    congestion_price_rt: Number(old['congestion_price_rt']) + 12.5,
  });
  const before = server.requests.length;
  const second = await run();
  assert.equal(second.changed, [
    'pjm/backtest[]',
    'pjm/features[51288|2025-05-23]',
    'pjm/features[51288|2025-05-24]',
    'pjm/forecast[]',
    'pjm/model[]',
    'pjm/model_export[]',
    'pjm/processed/prices[51288|2025-05-23]',
    'pjm/raw/prices[51288|2025-05-23]',
    'pjm/validated/prices[51288|2025-05-23]',
  ]);
  // Besides, only the re-reads of the last 3 days (4 nodes' prices, the load), which found the same
  // rows, and the scores of the two days whose features changed (no forecast of them was kept: the same score).
  const reread = second.ran.filter((s) => !second.changed.includes(s));
  assert.equal(
    reread.filter((s) => !/^pjm\/raw\/(prices\[\d+\||load\[)2025-05-(22|23|24)\]$/.test(s) && !/^pjm\/forecast_score\[2025-05-2[34]\]$/.test(s)),
    [],
    reread.join(', '),
  );
  assert.is(reread.length, 3 * 4 - 1 + 3 + 2);
  assert.is(lmpRequests(before).length, 3 * 2, 'the trailing 3 days, once per feed');
});

test.run();
