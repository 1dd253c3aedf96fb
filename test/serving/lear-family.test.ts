// A served LEAR (PJM_MODEL_FAMILIES=lear): the same pipeline as ensemble.test.ts with LEAR alone
// served. pjm/model's sidecar says so (weights XGBoost 0, LEAR 1), its backtest MAE is the
// LEAR family's (XGBoost only where LEAR had no forecast), and /predict answers LEAR's own
// forecast (computed offline, within 1e-9) where LEAR has its inputs and XGBoost's where it has
// not, as the backtest scored it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { call, type TestServer } from './support/server.ts';
import { currentModel, offlineFamilies, servedFamilyPipeline } from './support/families.ts';

const COMED = 33092371;
const WINDOWS = [28, 56];
let server: TestServer;

test.before(async () => {
  server = await servedFamilyPipeline('lear', WINDOWS);
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

test('pjm/model serves LEAR: weights 0 and 1, the LEAR family backtest MAE', async () => {
  const { sidecar } = await currentModel(server.instance);
  assert.is(sidecar.format, 'pjm-lmp/2');
  assert.is(sidecar.servedFamily, 'lear');
  assert.equal(sidecar.families!.weights, { xgboost: 0, lear: 1 });
  const bt = (await server.instance.store.current('pjm/backtest' as never, ''))!;
  const metadata = (await server.instance.store.materialization(bt.id))!.metadata as {
    mae: number;
    families: { families: string; point: { xgboost: { mae: number } } };
  };
  assert.is(metadata.families.families, 'lear');
  assert.is(sidecar.backtest!.mae, metadata.mae);
  assert.is.not(sidecar.backtest!.mae, metadata.families.point.xgboost.mae);
});

test("/predict is LEAR's forecast where LEAR has its inputs, XGBoost's where it has not", async () => {
  for (const [day, family] of [
    ['2016-12-30', 'lear'],
    ['2016-09-30', 'xgboost'],
  ] as const) {
    const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: day } });
    assert.is(r.status, 200, r.text);
    assert.is(r.json.family.served, 'lear');
    assert.is(r.json.family.learFallback === null, family === 'lear', `${day}: ${r.json.family.learFallback}`);
    const expected = (await offlineFamilies(server.instance, COMED, day, WINDOWS))[family];
    for (const f of r.json.forecasts as { hour: number; value: number }[])
      assert.ok(Math.abs(f.value - expected[f.hour]!) < 1e-9, `${day} hour ${f.hour}: served ${f.value}, ${family} ${expected[f.hour]}`);
  }
});

test.run();
