// /predict keeps what it issues: an answer for a day whose validated prices are not in yet is
// written to the served-forecast log (the lineage store's asset records, read back here
// through the store) once per model version x node x market x day, off the
// request path (a repeated request, answered from the cache, adds nothing); an answer for a day
// already known is not a forecast and is not kept. A model on DA price lags alone forecasts the
// day after the data (its load forecast is missing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FeatureSet } from '../../assets/pjm/features/index.ts';
import { ServedForecastLog } from '../../assets/pjm/served/log.ts';
import { call, COMED, eventually, materializeMini, MISSING_DAY, modelState, openMini, startTestServer, type TestServer } from './support/server.ts';

const PRICES_ONLY: FeatureSet = { market: 'da', inputs: ['price_lags'], loadForecastArea: null, loadMeteredArea: null };
const KNOWN_DAY = '2016-12-20';
let server: TestServer;

test.before(async () => {
  modelState.featureSet = PRICES_ONLY;
  modelState.calibrated = true;
  const instance = await openMini();
  await materializeMini(instance);
  server = await startTestServer(instance);
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

const kept = () => new ServedForecastLog(server.instance.store).forDays('2000-01-01', '2100-01-01');

test('a forecast of the day after the data is kept once, with its quantiles; a known day and repeats are not', async () => {
  const body = { node: COMED, market: 'da', date: MISSING_DAY };
  const first = await call(server.url, 'POST', '/predict', { body });
  assert.is(first.status, 200, first.text);
  for (let i = 0; i < 3; i++) assert.is((await call(server.url, 'POST', '/predict', { body })).status, 200);
  assert.is((await call(server.url, 'POST', '/predict', { body: { ...body, date: KNOWN_DAY } })).status, 200);
  assert.is((await call(server.url, 'POST', '/predict/batch', { body: { nodes: [COMED], market: 'da', dates: [MISSING_DAY, KNOWN_DAY] } })).status, 200);
  await eventually(async () => (await kept()).length > 0, 5_000, 'the served forecast to be written');
  await server.deps.predictions.close();
  const rows = await kept();
  assert.equal(
    rows.map((r) => [r.origin, r.nodeId, r.market, r.day, r.modelVersion]),
    [['predict', COMED, 'da', MISSING_DAY, first.json.model.dataVersion]],
  );
  const f = rows[0]!;
  assert.is(f.hours.length, 24);
  assert.equal(
    f.hours.map((h) => h.value),
    first.json.forecasts.map((h: { value: number }) => h.value),
  );
  assert.equal(
    f.levels,
    first.json.forecasts[0].quantiles.map((q: { level: number }) => q.level),
  );
  assert.equal(
    f.hours[5]!.quantiles,
    first.json.forecasts[5].quantiles.map((q: { value: number }) => q.value),
  );
});

test.run();
