// A served ensemble: the real pipeline (assets/definitions.ts on the bundled epftoolbox data,
// a reduced range) run with PJM_MODEL_FAMILIES=ensemble and two LEAR windows trains pjm/model
// as XGBoost members plus LEAR per node on each window (sidecar format pjm-lmp/2), calibrated
// on the ensemble's own backtest. The server's /predict then equals the ensemble computed
// offline here from the features asset's rows (lib/lear fitted on each window's latest days,
// XGBoost from the stored members, the plain mean), hour by hour within 1e-9; /model lists
// the members, windows and weights; pjm/forecast forecasts with the same family.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { duckdbConnect } from '../../runtime/index.ts';
import { call, type TestServer } from './support/server.ts';
import { currentModel as modelOf, currentPaths, END, offlineFamilies, servedFamilyPipeline } from './support/families.ts';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

const COMED = 33092371;
const WINDOWS = [28, 56];
const DAY = '2016-12-30';
let server: TestServer;
let validate: ValidateFunction;

test.before(async () => {
  server = await servedFamilyPipeline('ensemble', WINDOWS);
  const doc = (await call(server.url, 'GET', '/openapi.json')).json;
  const ok = doc.paths['/predict'].post.responses['200'].content['application/json'].schema;
  validate = addFormats(new Ajv2020({ allErrors: true, strict: false, strictNumbers: true })).compile({
    $id: 'https://pjm.test/openapi.json',
    components: doc.components,
    ...ok,
  });
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

const currentModel = () => modelOf(server.instance);
const paths = (asset: string) => currentPaths(server.instance, asset);

/** The ensemble's 24 grid-hour forecasts of `day`, computed offline (support/families.ts): the plain mean of XGBoost's and LEAR's. */
async function offlineEnsemble(day: string): Promise<number[]> {
  const f = await offlineFamilies(server.instance, COMED, day, WINDOWS);
  return f.xgboost.map((x, h) => (x + f.lear[h]!) / 2);
}

test('pjm/model serves the ensemble: a pjm-lmp/2 sidecar with LEAR per window, calibrated and checked on the ensemble backtest', async () => {
  const { sidecar, bundle } = await currentModel();
  assert.is(sidecar.format, 'pjm-lmp/2');
  assert.is(sidecar.servedFamily, 'ensemble');
  assert.equal(sidecar.families!.weights, { xgboost: 0.5, lear: 0.5 });
  assert.equal(sidecar.families!.lear.windows, WINDOWS);
  assert.equal(
    sidecar.families!.lear.nodes.map((n) => [n.nodeId, n.windows.map((w) => w.window)]),
    [[COMED, WINDOWS]],
  );
  assert.ok(bundle.has(sidecar.families!.lear.file), 'the LEAR members are in the bundle');
  // The no-worse figure and the quantiles are the ensemble's backtest, not XGBoost's.
  const bt = (await server.instance.store.current('pjm/backtest' as never, ''))!;
  const metadata = (await server.instance.store.materialization(bt.id))!.metadata as {
    mae: number;
    families: { families: string; point: { xgboost: { mae: number }; ensemble: { mae: number } }; calibration: unknown };
  };
  assert.is(metadata.families.families, 'ensemble');
  assert.is(sidecar.backtest!.mae, metadata.mae);
  assert.is(sidecar.backtest!.mae, metadata.families.point.ensemble.mae);
  assert.is.not(sidecar.backtest!.mae, metadata.families.point.xgboost.mae);
  assert.ok(sidecar.calibration, 'a calibration');
  assert.equal(sidecar.calibration, metadata.families.calibration);
  assert.not.equal(sidecar.calibration, (metadata.families as unknown as { xgboostCalibration: unknown }).xgboostCalibration);
});

test('/predict equals the ensemble computed offline from the same rows (within 1e-9), with its family, and validates against /openapi.json', async () => {
  const r = await call(server.url, 'POST', '/predict', { body: { node: 'COMED', market: 'da', date: DAY } });
  assert.is(r.status, 200, r.text);
  assert.ok(validate(r.json as object), JSON.stringify(validate.errors));
  assert.equal(r.json.family, { served: 'ensemble', weights: { xgboost: 0.5, lear: 0.5 }, learWindows: WINDOWS, learFallback: null });
  const expected = await offlineEnsemble(DAY);
  assert.is(r.json.forecasts.length, 24);
  for (const f of r.json.forecasts as { hour: number; value: number; quantiles: { value: number }[] }[]) {
    assert.ok(Math.abs(f.value - expected[f.hour]!) < 1e-9, `hour ${f.hour}: served ${f.value}, offline ${expected[f.hour]}`);
    assert.ok(f.quantiles.length === 7, 'quantiles from the ensemble calibration');
  }
  // LEAR reads D-1 and D-7 too: their partitions are among the answer's inputs.
  assert.ok(
    Object.keys(r.json.inputs.dataVersions).some((k) => k.includes('2016-12-16')),
    'D-14..D-8 prices are inputs of D-7',
  );
  const batch = await call(server.url, 'POST', '/predict/batch', { body: { nodes: [COMED], market: 'da', dates: [DAY] } });
  assert.equal(batch.json.results[0].forecasts, r.json.forecasts);
});

test('a day whose D-7 has no feature rows (its lags reach before the data): LEAR falls back to XGBoost, and the answer says why', async () => {
  const day = '2016-09-30';
  const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: day } });
  assert.is(r.status, 200, r.text);
  assert.ok(validate(r.json as object), JSON.stringify(validate.errors));
  assert.match(r.json.family.learFallback, /LEAR's inputs are incomplete: input exog0_d7_h00 of day 2016-09-30 is NaN/);
  const { xgboost } = await offlineFamilies(server.instance, COMED, day, WINDOWS);
  for (const f of r.json.forecasts as { hour: number; value: number }[])
    assert.ok(Math.abs(f.value - xgboost[f.hour]!) < 1e-9, `hour ${f.hour}: XGBoost's alone`);
});

test('GET /model lists the family, its members, windows and weights', async () => {
  const r = await call(server.url, 'GET', '/model');
  assert.is(r.status, 200);
  const f = r.json.family;
  assert.is(f.served, 'ensemble');
  assert.equal(
    f.members.map((m: { family: string; weight: number }) => [m.family, m.weight]),
    [
      ['xgboost', 0.5],
      ['lear', 0.5],
    ],
  );
  assert.equal(f.learWindows, WINDOWS);
  assert.equal(
    f.lear[0].windows.map((w: { window: number }) => w.window),
    WINDOWS,
  );
  // Each window ends on the last day of complete data: 56 days back from there.
  assert.equal(f.lear[0].windows[1], { window: 56, firstDay: '2016-11-16', lastDay: END });
});

test("POST /predict/features answers with the XGBoost members alone and says so (LEAR reads several days' rows)", async () => {
  const names = (await call(server.url, 'GET', '/model')).json.featureNames as string[];
  const r = await call(server.url, 'POST', '/predict/features', {
    body: { node: COMED, market: 'da', rows: [{ features: Object.fromEntries(names.map((n) => [n, n === 'hour' ? 3 : null])) }] },
  });
  assert.is(r.status, 200, r.text);
  assert.match(r.json.note, /XGBoost members' alone/);
});

test("pjm/forecast forecasts with the served ensemble: its values are /predict's for its day", async () => {
  const conn = await duckdbConnect();
  try {
    const rows = (
      await conn.runAndReadAll(
        `SELECT CAST(day AS VARCHAR) AS day, CAST(epoch_ms(ts_utc) AS DOUBLE) AS ts, value FROM read_parquet('${(await paths('pjm/forecast'))[0]}') ORDER BY ts_utc`,
      )
    ).getRowObjectsJS() as { day: string; ts: number; value: number }[];
    assert.ok(rows.length >= 23, 'a forecast day');
    const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: rows[0]!.day } });
    assert.is(r.status, 200, r.text);
    assert.equal(r.json.family.learFallback, null);
    const served = new Map((r.json.forecasts as { ts_utc: string; value: number }[]).map((f) => [Date.parse(f.ts_utc), f.value]));
    for (const row of rows) assert.ok(Math.abs(row.value - served.get(row.ts)!) < 1e-9, `${row.ts}: forecast ${row.value}, /predict ${served.get(row.ts)}`);
  } finally {
    conn.closeSync();
  }
});

test.run();
