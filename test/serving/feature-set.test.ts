// /predict builds its rows from the inputs the served model was trained with (the sidecar's
// feature set), not from a fixed set: a model trained on DA price lags alone forecasts the day
// after the data, whose load forecast is missing and which a load-reading model cannot forecast.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { featureColumns, type FeatureSet } from '../../assets/pjm/features/index.ts';
import { call, COMED, materializeMini, MISSING_DAY, modelState, openMini, startTestServer, type TestServer } from './support/server.ts';

const PRICES_ONLY: FeatureSet = { market: 'da', inputs: ['price_lags'], loadForecastArea: null, loadMeteredArea: null };
let server: TestServer;

test.before(async () => {
  modelState.featureSet = PRICES_ONLY;
  const instance = await openMini();
  await materializeMini(instance);
  server = await startTestServer(instance);
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

test('the served model names its set; /predict of a day without load forecasts answers from price lags alone', async () => {
  const model = await call(server.url, 'GET', '/model');
  assert.is(model.status, 200, model.text);
  assert.equal(model.json.featureNames, featureColumns(PRICES_ONLY));
  const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: MISSING_DAY, explain: true } });
  assert.is(r.status, 200, r.text);
  assert.is(r.json.forecasts.length, 24);
  assert.ok(r.json.forecasts.every((f: { value: number }) => Number.isFinite(f.value) && f.value > 0 && f.value < 500));
  // The explanation covers exactly the model's features: no load column was built or fed.
  assert.equal(Object.keys(r.json.forecasts[0].explanation.members[0].contributions).sort(), featureColumns(PRICES_ONLY).sort());
});

test.run();
