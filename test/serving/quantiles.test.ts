// /predict's quantiles as a client sees them, from a model whose sidecar has a conformal
// calibration (the mini graph's, from its held-out days' residuals): every hour carries the
// seven documented levels, monotone, offsets exactly those of the calibration, and the whole
// answer validates against the response schema GET /openapi.json publishes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';
import { QUANTILE_LEVELS } from '../../lib/forecast-eval/index.ts';
import { call, COMED, GOOD_DAY, materializeMini, modelState, openMini, startTestServer, type TestServer } from './support/server.ts';

// ajv-formats is CommonJS; under ESM its function is the default export's default.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

let server: TestServer;
let validate: ValidateFunction;

test.before(async () => {
  modelState.calibrated = true;
  const instance = await openMini();
  await materializeMini(instance);
  server = await startTestServer(instance);
  const doc = (await call(server.url, 'GET', '/openapi.json')).json;
  // The 200 answer's schema exactly as published, its $refs resolved inside the same document.
  const ok = doc.paths['/predict'].post.responses['200'].content['application/json'].schema;
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false, strictNumbers: true }));
  validate = ajv.compile({ $id: 'https://pjm.test/openapi.json', components: doc.components, ...ok });
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

interface Quantile {
  readonly level: number;
  readonly value: number;
}
interface Hour {
  readonly hour: number;
  readonly value: number;
  readonly quantiles?: Quantile[];
}

test('a calibrated model: /predict validates against /openapi.json with quantiles at 5..95 %, monotone in every hour', async () => {
  const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } });
  assert.is(r.status, 200, r.text);
  assert.ok(validate(r.json as object), JSON.stringify(validate.errors));
  const hours = r.json.forecasts as Hour[];
  assert.is(hours.length, 24);
  for (const h of hours) {
    assert.ok(h.quantiles, `hour ${h.hour} has quantiles`);
    assert.equal(
      h.quantiles!.map((q) => q.level),
      [...QUANTILE_LEVELS],
    );
    for (let k = 1; k < h.quantiles!.length; k++)
      assert.ok(h.quantiles![k]!.value >= h.quantiles![k - 1]!.value, `hour ${h.hour}: quantile ${k} below ${k - 1}`);
    // The 90 % interval is a real interval around the point forecast, not a point.
    assert.ok(h.quantiles![6]!.value > h.quantiles![0]!.value, `hour ${h.hour}: a 90 % interval of width 0`);
  }
});

test('each quantile is the forecast plus the sidecar calibration offset of its hour (GET /model: calibration)', async () => {
  const [r, model] = await Promise.all([
    call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } }),
    call(server.url, 'GET', '/model'),
  ]);
  const calibration = model.json.calibration as { levels: number[]; offsets: number[][]; residualsPerHour: number };
  assert.is(calibration.residualsPerHour, 5);
  for (const h of r.json.forecasts as Hour[]) {
    h.quantiles!.forEach((q, k) => {
      assert.ok(Math.abs(q.value - (h.value + calibration.offsets[h.hour]![k]!)) < 1e-9, `hour ${h.hour} level ${q.level}`);
    });
  }
});

test('the published schema is strict about quantiles: a missing level, an unknown level or an extra field fails it', async () => {
  const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } });
  const withFirstHour = (qs: unknown) => ({ ...r.json, forecasts: [{ ...r.json.forecasts[0], quantiles: qs }, ...r.json.forecasts.slice(1)] });
  const qs = r.json.forecasts[0].quantiles as Quantile[];
  assert.not.ok(validate(withFirstHour(qs.slice(1))), 'six levels');
  assert.not.ok(validate(withFirstHour(qs.map((q, k) => (k === 3 ? { ...q, level: 0.55 } : q)))), 'level 0.55');
  assert.not.ok(validate(withFirstHour(qs.map((q) => ({ ...q, interval: 'x' })))), 'extra field');
  assert.ok(validate(withFirstHour(qs)), 'the untouched answer still passes');
});

test('POST /predict/batch carries the same quantiles for each node-day', async () => {
  const one = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } });
  const batch = await call(server.url, 'POST', '/predict/batch', { body: { nodes: [COMED], market: 'da', dates: [GOOD_DAY] } });
  assert.is(batch.status, 200, batch.text);
  assert.equal(
    batch.json.results[0].forecasts.map((h: Hour) => h.quantiles),
    one.json.forecasts.map((h: Hour) => h.quantiles),
  );
});

test.run();
