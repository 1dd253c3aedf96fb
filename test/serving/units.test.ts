// The server's pure parts, without HTTP: settings from the environment (and the token kept
// out of logs), token checks, validation messages, the OpenAPI registry's guards, the LRU,
// and the model's refusal of markets and nodes it was not trained for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Type as T } from '@sinclair/typebox';
import { describeConfig, loadConfig } from '../../serving/config.ts';
import { bearerAuth } from '../../serving/http/middleware/auth.ts';
import { HttpError } from '../../serving/http/errors.ts';
import { OpenApiDocument } from '../../serving/http/openapi.ts';
import { validate } from '../../serving/http/validate.ts';
import { Lru } from '../../serving/data/lru.ts';
import { ServingMetrics } from '../../serving/metrics.ts';
import { checkServes } from '../../serving/predict/forecast.ts';
import type { ServedModel } from '../../serving/model/registry.ts';
import { PredictBatchRequest, PredictRequest } from '../../serving/schemas.ts';

test('config: defaults, environment, arguments; bad values are named', () => {
  const c = loadConfig([], { DATA_DIR: '/srv/data' });
  assert.is(c.port, 8000);
  assert.is(c.host, '0.0.0.0');
  assert.is(c.dataDir, '/srv/data');
  assert.is(c.apiToken, undefined);
  assert.equal(c.corsOrigins, []);
  const d = loadConfig(['--port', '9000', '--host=127.0.0.1'], { PORT: '1', SERVING_API_TOKEN: ' t0k ', SERVING_CORS_ORIGINS: 'https://a, https://b' });
  assert.is(d.port, 9000);
  assert.is(d.host, '127.0.0.1');
  assert.is(d.apiToken, 't0k');
  assert.equal(d.corsOrigins, ['https://a', 'https://b']);
  assert.throws(() => loadConfig([], { PORT: 'eighty' }), /PORT="eighty" is not a whole number/);
  assert.is(c.warmupMs, 20_000, 'a served process warms up before it says ready (for at most 20 s)');
  assert.is(loadConfig([], { SERVING_WARMUP_MS: '0' }).warmupMs, 0);
  assert.throws(() => loadConfig([], { SERVING_WARMUP_MS: '-5' }), /SERVING_WARMUP_MS="-5" is out of range: expected a whole number from 0 to/);
  assert.throws(() => loadConfig(['--verbose', 'x'], {}), /Unknown option --verbose/);
});

test('config as logged never contains the token', () => {
  const described = JSON.stringify(describeConfig(loadConfig([], { SERVING_API_TOKEN: 'super-secret-value' })));
  assert.not.ok(described.includes('super-secret-value'));
  assert.match(described, /bearer token required/);
});

test('bearer auth: off without a token; with one, mutating methods need exactly it', () => {
  const ctx = (authorization?: string) => ({ get: (h: string) => (h === 'authorization' ? (authorization ?? '') : '') }) as never;
  const off = bearerAuth(undefined);
  assert.not.ok(off.enabled);
  off.check(ctx());
  const on = bearerAuth('abc');
  assert.ok(on.requiredFor('POST') && on.requiredFor('delete') && !on.requiredFor('GET') && !on.requiredFor('HEAD'));
  on.check(ctx('Bearer abc'));
  for (const bad of [undefined, 'Bearer abd', 'Basic abc', 'Bearer abcd']) {
    try {
      on.check(ctx(bad));
      assert.unreachable(`accepted ${bad}`);
    } catch (err) {
      assert.instance(err, HttpError);
      assert.is((err as HttpError).status, 401);
    }
  }
});

test('validation names each field path and what it expected', () => {
  const problems = (schema: Parameters<typeof validate>[0], value: unknown) => {
    try {
      validate(schema, value, 'body');
    } catch (err) {
      return ((err as HttpError).details as { problems: { path: string; message: string }[] }).problems;
    }
    return [];
  };
  assert.equal(problems(PredictRequest, { node: 1, market: 'da', date: '2017-01-10' }), []);
  assert.equal(problems(PredictRequest, { node: 1.5, market: 'da', date: '2017-01-10' }), [
    { path: 'body/node', message: 'is not valid: expected a PJM pnode id (integer) or a node name such as "WESTERN HUB"' },
  ]);
  assert.equal(problems(PredictRequest, { node: 1, market: 'DA', date: '10/01/2017' }), [
    { path: 'body/market', message: 'must be one of "da", "rt"' },
    { path: 'body/date', message: 'must match format "date"' },
  ]);
  assert.equal(problems(PredictBatchRequest, { nodes: [], market: 'da', dates: ['2017-01-10'] }), [
    { path: 'body/nodes', message: 'must NOT have fewer than 1 items' },
  ]);
  assert.equal(problems(PredictRequest, []), [{ path: 'body', message: 'must be object' }]);
});

test('query and path parameters are coerced from text before validation', () => {
  const Q = T.Object({ limit: T.Integer({ minimum: 1 }) });
  assert.equal(validate(Q, { limit: '10' }, 'query'), { limit: 10 });
  assert.throws(() => validate(Q, { limit: 'ten' }, 'query'), /query\/limit must be integer/);
});

test('OpenAPI registry: a schema name or an operation registered twice is refused', () => {
  const doc = new OpenApiDocument({ title: 't', version: '1', description: 'd' });
  const S = T.Object({ a: T.String() });
  assert.equal(doc.schema('S', S), { $ref: '#/components/schemas/S' });
  assert.equal(doc.schema('S', S), { $ref: '#/components/schemas/S' });
  assert.throws(() => doc.schema('S', T.Object({ b: T.String() })), /registered twice with different schemas/);
  doc.operation('get', '/x', { responses: {} });
  assert.throws(() => doc.operation('get', '/x', { responses: {} }), /GET \/x is registered twice/);
  assert.equal(JSON.parse(doc.json()).components.schemas.S.properties.a, { type: 'string' });
});

test('LRU keeps the most recently used entries', () => {
  const lru = new Lru<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.is(lru.get('a'), 1);
  lru.set('c', 3);
  assert.is(lru.get('b'), undefined);
  assert.is(lru.get('a'), 1);
  assert.is(lru.size, 2);
});

test('a model refuses a market or a node it was not trained for, saying which it serves', () => {
  const served = {
    materializationId: 7,
    sidecar: { market: 'da' },
    model: { transform: { kind: 'asinh-median', byNode: { '51217': { median: 30, scale: 5 } } } },
  } as unknown as ServedModel;
  checkServes(served, 'da', 51217);
  const refusal = (market: 'da' | 'rt', node: number) => {
    try {
      checkServes(served, market, node);
    } catch (err) {
      return [(err as HttpError).status, (err as HttpError).code, (err as HttpError).message];
    }
    return undefined;
  };
  const rt = refusal('rt', 51217)!;
  assert.equal(rt.slice(0, 2), [422, 'market_not_served']);
  assert.match(rt[2] as string, /forecasts da prices, not rt/);
  const node = refusal('da', 51288)!;
  assert.equal(node.slice(0, 2), [422, 'node_not_trained']);
  assert.match(node[2] as string, /not trained on node 51288/);
});

test('request metrics: a tally and a bound recorder show in /metrics exactly, beside plain inc() on the same series', async () => {
  const metrics = new ServingMetrics({ defaultMetrics: false });
  const record = metrics.requestRecorder('POST', '/predict', 200);
  const started = process.hrtime.bigint();
  for (let i = 0; i < 3; i++) record(started);
  metrics.recordRequest('POST', '/predict', 200, started);
  const hits = metrics.tally(metrics.featureCache, { result: 'hit' });
  hits.inc();
  hits.inc();
  metrics.featureCache.inc({ result: 'hit' });
  const text = await metrics.registry.metrics();
  assert.match(text, /^http_requests_total\{method="POST",route="\/predict",status="200"\} 4$/m);
  assert.match(text, /^http_request_duration_seconds_count\{method="POST",route="\/predict"\} 4$/m);
  assert.match(text, /^feature_cache_total\{result="hit"\} 3$/m);
  // Read again with nothing new: the tallies were handed over once, not twice.
  assert.match(await metrics.registry.metrics(), /^feature_cache_total\{result="hit"\} 3$/m);
});

test.run();
