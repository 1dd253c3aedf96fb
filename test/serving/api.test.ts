// The HTTP API as a client sees it, over a store filled by the mini PJM graph (the
// forecasting code's features and model on the committed epftoolbox slice): every endpoint,
// and every way a request can be wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { featureColumns } from '../../assets/pjm/features/index.ts';
import { call, COMED, GOOD_DAY, materializeMini, MISSING_DAY, openMini, startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
let url: string;

test.before(async () => {
  const instance = await openMini();
  await materializeMini(instance);
  server = await startTestServer(instance);
  url = server.url;
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

test('GET /health says the process is up', async () => {
  const r = await call(url, 'GET', '/health');
  assert.is(r.status, 200);
  assert.is(r.json.status, 'ok');
});

test('GET /ready names the loaded model, its data version and when it was trained', async () => {
  const r = await call(url, 'GET', '/ready');
  assert.is(r.status, 200);
  const current = (await server.instance.store.current('pjm/model' as never, ''))!;
  assert.is(r.json.model.materializationId, current.id);
  assert.is(r.json.model.dataVersion, current.dataVersion);
  assert.ok(!Number.isNaN(Date.parse(r.json.model.trainedAt)));
  assert.equal(r.json.validatedPartitions, { prices: 50, load: 50 });
});

test('POST /predict by node name: 24 hourly forecasts with UTC and EPT times and the model version', async () => {
  const r = await call(url, 'POST', '/predict', { body: { node: 'comed', market: 'da', date: GOOD_DAY } });
  assert.is(r.status, 200, r.text);
  assert.equal(r.json.node, { id: COMED, name: 'COMED', zone: 'COMED' });
  assert.is(r.json.forecasts.length, 24);
  assert.equal(r.json.forecasts[0], { hour: 0, ts_utc: '2016-12-20T05:00:00Z', ts_ept: '2016-12-20T00:00:00-05:00', value: r.json.forecasts[0].value });
  assert.ok(r.json.forecasts.every((f: { value: number }) => Number.isFinite(f.value) && f.value > 0 && f.value < 500));
  assert.is(r.json.model.dataVersion, (await server.instance.store.current('pjm/model' as never, ''))!.dataVersion);
  // The features' provenance: the validated partitions of D-7..D (prices) and D-1..D (load).
  assert.is(Object.keys(r.json.inputs.dataVersions).length, 8 + 2);
  assert.ok(r.json.inputs.dataVersions[`pjm/validated/prices[${GOOD_DAY}]`]);
});

test('POST /predict by id gives the same answer, and a repeat is served from the cache', async () => {
  const byName = await call(url, 'POST', '/predict', { body: { node: 'COMED', market: 'da', date: GOOD_DAY } });
  const before = await metric('feature_cache_total{result="hit"}');
  const byId = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } });
  assert.is(byId.status, 200);
  assert.equal(byId.json.forecasts, byName.json.forecasts);
  assert.is(await metric('feature_cache_total{result="hit"}'), before + 1);
});

test('POST /predict with explain returns SHAP contributions by feature name for each hour', async () => {
  const r = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY, explain: true } });
  assert.is(r.status, 200);
  const members = r.json.forecasts[18].explanation.members;
  assert.equal(
    members.map((m: { member: string; target: string }) => [m.member, m.target]),
    [
      ['change_lag1', 'change_lag1'],
      ['level', 'level'],
    ],
  );
  for (const e of members) {
    assert.equal(Object.keys(e.contributions).sort(), featureColumns('da').sort());
    assert.type(e.bias, 'number');
    assert.ok(
      Object.values(e.contributions).some((v) => v !== 0),
      'some feature contributes',
    );
  }
});

test('explanations add up: the mean of the members, mapped back from z, is the forecast', async () => {
  const r = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY, explain: true } });
  const model = (await call(url, 'GET', '/model')).json;
  const scale = model.target.transform.byNode[String(COMED)] as { median: number; scale: number };
  const toZ = (p: number) => Math.asinh((p - scale.median) / scale.scale);
  const fromZ = (z: number) => scale.median + scale.scale * Math.sinh(z);
  const node = await server.deps.features.resolveNode(COMED);
  const day = await server.deps.features.forDay(node, 'da', GOOD_DAY);
  for (const f of r.json.forecasts as {
    hour: number;
    value: number;
    explanation: { members: { target: string; bias: number; contributions: Record<string, number> }[] };
  }[]) {
    const row = day.table.hour.indexOf(f.hour);
    const lag1 = day.table.features['price_lag1_h']![row]!;
    const members = f.explanation.members.map((m) => {
      const z = m.bias + Object.values(m.contributions).reduce((a, b) => a + b, 0);
      return fromZ(z + (m.target === 'change_lag1' ? toZ(lag1) : 0));
    });
    const mean = members.reduce((a, b) => a + b, 0) / members.length;
    assert.ok(Math.abs(mean - f.value) < 1e-3 * Math.max(1, Math.abs(f.value)), `hour ${f.hour}: ${mean} vs ${f.value}`);
  }
});

test('missing inputs: 422 naming each missing series, day and hours, never an older row', async () => {
  const r = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: MISSING_DAY } });
  assert.is(r.status, 422);
  assert.is(r.json.error.code, 'missing_inputs');
  assert.match(r.json.error.message, /load forecast of area RTO on 2016-12-21/);
  assert.equal(
    r.json.error.missing.map((m: { input: string; area: string; day: string; hours: number[] }) => [m.input, m.area, m.day, m.hours.length]),
    [
      ['load_forecast', 'RTO', MISSING_DAY, 24],
      ['load_forecast', 'COMED', MISSING_DAY, 24],
    ],
  );
  const early = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: '2016-11-03' } });
  assert.is(early.status, 422);
  assert.ok(
    early.json.error.missing.some((m: { input: string; day: string }) => m.input === 'price' && m.day === '2016-10-27'),
    early.text,
  );
});

test('unknown node: 404 listing the known nodes', async () => {
  const r = await call(url, 'POST', '/predict', { body: { node: 'WESTERN HUB', market: 'da', date: GOOD_DAY } });
  assert.is(r.status, 404);
  assert.is(r.json.error.code, 'unknown_node');
  assert.match(r.json.error.message, /Unknown node "WESTERN HUB".*33092371 \(COMED\)/);
});

test('a market the model does not forecast: 422 saying which one it does', async () => {
  const r = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'rt', date: GOOD_DAY } });
  assert.is(r.status, 422);
  assert.is(r.json.error.code, 'market_not_served');
  assert.match(r.json.error.message, /forecasts da prices, not rt/);
});

test('wrong types: 400 naming every offending field path', async () => {
  const r = await call(url, 'POST', '/predict', { body: { node: true, market: 'dx', date: '2016-02-30', extra: 1 } });
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 'validation_failed');
  const paths = r.json.error.problems.map((p: { path: string }) => p.path).sort();
  assert.equal(paths, ['body/date', 'body/extra', 'body/market', 'body/node']);
  assert.match(r.json.error.message, /body\/\w+/);
  const missing = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da' } });
  assert.is(missing.status, 400);
  assert.equal(missing.json.error.problems, [{ path: 'body/date', message: 'is required' }]);
});

test('bad JSON: 400 invalid_json; a body that is not JSON: 415', async () => {
  const r = await call(url, 'POST', '/predict', { raw: '{"node": 1, "market": ' });
  assert.is(r.status, 400);
  assert.is(r.json.error.code, 'invalid_json');
  assert.match(r.json.error.message, /not valid JSON/);
  const form = await call(url, 'POST', '/predict', { raw: 'node=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.is(form.status, 415);
  assert.is(form.json.error.code, 'unsupported_media_type');
});

test('a huge body: 413 before it is read', async () => {
  const big = JSON.stringify({ node: COMED, market: 'da', date: GOOD_DAY, pad: 'x'.repeat(2 * 1024 * 1024) });
  const r = await call(url, 'POST', '/predict', { raw: big });
  assert.is(r.status, 413);
  assert.is(r.json.error.code, 'payload_too_large');
  assert.match(r.json.error.message, /limit is 1048576 bytes/);
});

test('a huge chunked body (no Content-Length): 413 while reading', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    const pump = () => {
      while (sent < 32) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  assert.is(status, 413);
});

test('POST /predict/batch: every node × date with one model, failed items carry their error', async () => {
  const r = await call(url, 'POST', '/predict/batch', { body: { nodes: [COMED, 'NOWHERE'], market: 'da', dates: ['2016-12-19', GOOD_DAY, MISSING_DAY] } });
  assert.is(r.status, 200, r.text);
  assert.is(r.json.results.length, 6);
  const codes = r.json.results.map((x: { error?: { code: string }; forecasts?: unknown[] }) => x.error?.code ?? x.forecasts?.length);
  assert.equal(codes, [24, 24, 'missing_inputs', 'unknown_node', 'unknown_node', 'unknown_node']);
  assert.is(r.json.model.dataVersion, r.json.results[0].model.dataVersion);
  const tooMany = await call(url, 'POST', '/predict/batch', {
    body: { nodes: Array.from({ length: 100 }, (_, i) => i), market: 'da', dates: Array(6).fill(GOOD_DAY) },
  });
  assert.is(tooMany.status, 422);
  assert.is(tooMany.json.error.code, 'work_limit_exceeded');
  assert.match(tooMany.json.error.message, /600 node-days/);
});

test('POST /predict/features: rows supplied directly predict the same values as the features asset rows', async () => {
  const explained = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } });
  // Rebuild hour 18's feature row from the server's own feature service (the features asset code).
  const node = await server.deps.features.resolveNode(COMED);
  const day = await server.deps.features.forDay(node, 'da', GOOD_DAY);
  const row = (i: number) => Object.fromEntries(day.table.featureNames.map((n) => [n, numberOrNull(day.table.features[n]![i]!)]));
  const r = await call(url, 'POST', '/predict/features', {
    body: { node: COMED, market: 'da', rows: [{ features: row(18) }, { features: row(0) }], explain: true },
  });
  assert.is(r.status, 200, r.text);
  assert.is(r.json.predictions[0].value, explained.json.forecasts[18].value);
  assert.is(r.json.predictions[1].value, explained.json.forecasts[0].value);
  assert.ok(r.json.predictions[0].explanation.members[0].contributions.price_lag1_h !== undefined);
  const partial = { ...row(0) };
  delete partial['load_sys_h'];
  const bad = await call(url, 'POST', '/predict/features', { body: { node: COMED, market: 'da', rows: [{ features: { ...partial, bogus: 1 } }] } });
  assert.is(bad.status, 422);
  assert.is(bad.json.error.code, 'feature_mismatch');
  assert.match(bad.json.error.message, /lacks 1 feature\(s\): load_sys_h.*unknown feature\(s\): bogus/);
});

test('GET /model: features, training window, metrics, members and lineage', async () => {
  const r = await call(url, 'GET', '/model');
  assert.is(r.status, 200);
  assert.equal(r.json.featureNames, featureColumns('da'));
  assert.is(r.json.market, 'da');
  assert.is(r.json.window.lastDay, '2016-12-15');
  assert.equal(
    r.json.members.map((m: { variant: { name: string } }) => m.variant.name),
    ['change_lag1', 'level'],
  );
  assert.ok(r.json.members[0].learningCurve.valid.length > 0);
  assert.equal(r.json.metrics, { note: 'test model, seed 7' });
  assert.is(r.json.backtest, null);
  const upstream = r.json.lineage.upstream.map((g: { asset: string; count: number }) => [g.asset, g.count]).sort();
  assert.equal(upstream, [
    ['pjm/validated/load', 50],
    ['pjm/validated/prices', 50],
  ]);
});

test('GET /openapi.json documents every route with the schemas that validate requests', async () => {
  const r = await call(url, 'GET', '/openapi.json');
  assert.is(r.status, 200);
  assert.is(r.json.openapi, '3.1.0');
  for (const path of ['/health', '/metrics', '/model', '/predict', '/predict/batch', '/predict/features', '/ready']) {
    assert.ok(r.json.paths[path], `${path} is documented`);
  }
  const { PredictRequest } = await import('../../serving/schemas.ts');
  assert.equal(r.json.components.schemas.PredictRequest, JSON.parse(JSON.stringify(PredictRequest)));
  const op = r.json.paths['/predict'].post;
  assert.equal(op.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/PredictRequest' });
  assert.ok(op.responses['422'] && op.responses['503'] && op.responses['400'] && op.responses['413']);
  assert.equal(op.security, [{ bearerAuth: [] }, {}]);
});

test('GET /docs is a Swagger UI page whose scripts are served locally', async () => {
  const page = await call(url, 'GET', '/docs');
  assert.is(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  const scripts = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(
    scripts.every((s) => s.startsWith('/docs/')),
    'no external URL',
  );
  for (const s of scripts) assert.is((await call(url, 'GET', s)).status, 200, s);
  assert.match((await call(url, 'GET', '/docs/init.js')).text, /url: '\/openapi\.json'/);
  assert.is((await call(url, 'GET', '/docs/assets/..%2Fpackage.json')).status, 404);
});

test('GET /metrics: request counts, latency histogram, predictions and the model version', async () => {
  const r = await call(url, 'GET', '/metrics');
  assert.is(r.status, 200);
  assert.match(r.text, /http_requests_total\{method="POST",route="\/predict",status="200"\} \d+/);
  assert.match(r.text, /http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/predict"\} \d+/);
  assert.match(r.text, /predictions_total\{market="da",form="day",outcome="missing_inputs"\} \d+/);
  const current = (await server.instance.store.current('pjm/model' as never, ''))!;
  assert.match(r.text, new RegExp(`model_info\\{materialization_id="${current.id}",data_version="${current.dataVersion}"\\} 1`));
});

test('an unknown route is a JSON 404; a wrong method is a JSON 405', async () => {
  const r = await call(url, 'GET', '/nope');
  assert.is(r.status, 404);
  assert.is(r.json.error.code, 'not_found');
  const m = await call(url, 'GET', '/predict');
  assert.is(m.status, 405);
  assert.is(m.json.error.code, 'method_not_allowed');
});

test('request ids: echoed when sane, generated otherwise, and in error bodies', async () => {
  const mine = await call(url, 'GET', '/health', { headers: { 'x-request-id': 'abc-123' } });
  assert.is(mine.headers.get('x-request-id'), 'abc-123');
  const bad = await call(url, 'POST', '/predict', { raw: '{', headers: { 'x-request-id': 'x'.repeat(200) } });
  const id = bad.headers.get('x-request-id')!;
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.is(bad.json.error.requestId, id);
});

test('CORS is off by default: no CORS headers, even for a preflight', async () => {
  const r = await call(url, 'OPTIONS', '/predict', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  assert.is(r.headers.get('access-control-allow-origin'), null);
});

test('auth on: /predict and mutating routes need the bearer token; reads stay open', async () => {
  const secured = await startTestServer(server.instance, { apiToken: 's3cret-token' });
  try {
    const body = { node: COMED, market: 'da', date: GOOD_DAY };
    const none = await call(secured.url, 'POST', '/predict', { body });
    assert.is(none.status, 401);
    assert.is(none.json.error.code, 'unauthorized');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await call(secured.url, 'POST', '/predict', { body, headers: { authorization: 'Bearer nope' } });
    assert.is(wrong.status, 401);
    const right = await call(secured.url, 'POST', '/predict', { body, headers: { authorization: 'Bearer s3cret-token' } });
    assert.is(right.status, 200);
    // Any mutating method, even on a route that does not exist, is refused before routing.
    assert.is((await call(secured.url, 'DELETE', '/anything')).status, 401);
    for (const path of ['/health', '/ready', '/model', '/openapi.json', '/metrics']) assert.is((await call(secured.url, 'GET', path)).status, 200, path);
  } finally {
    await secured.stop();
  }
  // Auth off (the main server): no token needed.
  assert.is((await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } })).status, 200);
});

test('CORS can be opened for listed origins', async () => {
  const open = await startTestServer(server.instance, { corsOrigins: ['https://ui.example'] });
  try {
    const ok = await call(open.url, 'OPTIONS', '/predict', { headers: { origin: 'https://ui.example', 'access-control-request-method': 'POST' } });
    assert.is(ok.status, 204);
    assert.is(ok.headers.get('access-control-allow-origin'), 'https://ui.example');
    const other = await call(open.url, 'GET', '/health', { headers: { origin: 'https://evil.example' } });
    assert.is(other.headers.get('access-control-allow-origin'), null);
  } finally {
    await open.stop();
  }
});

test('a request running longer than the timeout gets a 503 request_timeout', async () => {
  const slow = await startTestServer(server.instance, { requestTimeoutMs: 1 });
  try {
    // A fresh server has cold caches: its first DuckDB feature query cannot finish within 1 ms.
    const r = await call(slow.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: '2016-12-18' } });
    assert.is(r.status, 503);
    assert.is(r.json.error.code, 'request_timeout');
  } finally {
    await slow.stop();
  }
});

async function metric(line: string): Promise<number> {
  const text = (await call(url, 'GET', '/metrics')).text;
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

function numberOrNull(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

test.run();
