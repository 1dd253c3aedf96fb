// The server over the real PJM pipeline (assets/definitions.ts on the bundled epftoolbox
// data, a reduced date range, XGBoost alone, materialized in process up to pjm/model): it serves the model
// the pipeline trained, forecasts a day from the pipeline's validated data with the same
// values the `forecast` code computes, and says exactly what is missing past the data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { loadDefinitions } from '../../runtime/cli/load-definitions.ts';
import { duckdbConnect, Instance, materialize } from '../../runtime/index.ts';
import { loadModel, disposeModel, type ModelSidecar } from '../../assets/pjm/model/index.ts';
import { forecastDay } from '../../assets/pjm/forecast/forecast.ts';
import { decodeModelBundle } from '../../assets/pjm/model-bundle.ts';
import { tempDir } from '../support/tmp.ts';
import { call, startTestServer, type TestServer } from './support/server.ts';

const COMED = 33092371;
// The shortest range the default training accepts: 56 validation days, 4 weeks of fit, a week of lags.
const START = '2016-09-20';
const END = '2016-12-31';
let server: TestServer;

test.before(async () => {
  const dataDir = tempDir('serving-pipeline');
  // XGBoost alone, whose forecast `forecastDay` computes; the served ensemble (the default) has its own tests (ensemble.test.ts).
  Object.assign(process.env, { PJM_START: START, PJM_END: END, DATA_DIR: dataDir, PJM_MODEL_FAMILIES: 'xgboost' });
  const instance = await Instance.open(await loadDefinitions(undefined, { dataDir, env: process.env }), { dataDir });
  const run = await materialize(instance, { selection: '+pjm/model', trigger: 'test' });
  if (run.status !== 'succeeded') throw new Error(`the pipeline up to pjm/model ${run.status}: ${JSON.stringify(run.counts)}`);
  server = await startTestServer(instance);
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

test('serves the pipeline model and forecasts the last day like the forecast code does', async () => {
  const current = (await server.instance.store.current('pjm/model' as never, ''))!;
  const ready = await call(server.url, 'GET', '/ready');
  assert.is(ready.status, 200);
  assert.is(ready.json.model.dataVersion, current.dataVersion);

  const r = await call(server.url, 'POST', '/predict', { body: { node: 'COMED', market: 'da', date: END } });
  assert.is(r.status, 200, r.text);
  assert.is(r.json.forecasts.length, 24);
  assert.is(r.json.model.materializationId, current.id);

  // The same day through the forecasting code directly, from the same stored files.
  const record = (await server.instance.store.materialization(current.id))!;
  const sidecar = (record.metadata as unknown as { sidecar: ModelSidecar }).sidecar;
  const bytes = await readFile(await server.instance.storage.localPath(record.location!));
  const model = loadModel(sidecar, decodeModelBundle(bytes));
  const paths = async (asset: string) =>
    Promise.all(
      [...((await server.instance.store.snapshot([asset as never])).get(asset as never) ?? new Map()).values()].map((c) =>
        server.instance.storage.localPath(c.location),
      ),
    );
  const conn = await duckdbConnect();
  try {
    const direct = await forecastDay(conn, {
      model,
      market: 'da',
      nodeId: COMED,
      day: END,
      pricesParquet: await paths('pjm/validated/prices'),
      loadParquet: await paths('pjm/validated/load'),
    });
    assert.ok(direct.ok);
    if (direct.ok) {
      assert.equal(
        r.json.forecasts.map((f: { ts_utc: string; value: number }) => [f.ts_utc, f.value]),
        direct.forecast.rows.map((row) => [row.tsUtc, row.value]),
      );
    }
  } finally {
    conn.closeSync();
    disposeModel(model);
  }
});

test('the day after the data: 422 naming the missing load forecasts and prices', async () => {
  const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: '2017-01-02' } });
  assert.is(r.status, 422);
  assert.is(r.json.error.code, 'missing_inputs');
  const missing = r.json.error.missing as { input: string; day: string }[];
  assert.ok(
    missing.some((m) => m.input === 'price' && m.day === '2017-01-01'),
    r.text,
  );
  assert.ok(
    missing.some((m) => m.input === 'load_forecast' && m.day === '2017-01-02'),
    r.text,
  );
});

test('GET /model shows the pipeline lineage: the feature partitions it was trained on, their feature set and the backtest it was calibrated on', async () => {
  const r = await call(server.url, 'GET', '/model');
  assert.is(r.status, 200);
  assert.equal(
    r.json.lineage.upstream.map((g: { asset: string }) => g.asset).sort(),
    ['pjm/backtest', 'pjm/feature_set', 'pjm/features'],
    'the backtest too: it gives the model its calibration and the no-worse check its MAE',
  );
  assert.ok(r.json.featureNames.length > 50);
});

test.run();
