// What a hostile client or a careless deployment can do to the server, and what it must get
// back instead of a 500, a hang or a silent wrong answer: batches bounded in work (explain
// counted), long work that yields and stops when its request times out or its connection
// is cut, unknown methods, numbers JSON can hold but JavaScript cannot, out-of-range query
// numbers, state-changing routes from other hosts without a token, and security headers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { call, COMED, eventually, GOOD_DAY, materializeMini, openMini, startTestServer, type TestServer } from './support/server.ts';
import type { Instance } from '../../runtime/index.ts';

let instance: Instance<unknown>;
let server: TestServer;
let url: string;

test.before(async () => {
  instance = await openMini();
  await materializeMini(instance);
  server = await startTestServer(instance);
  url = server.url;
});

test.after(async () => {
  await server.stop();
  await instance.close();
});

/** Days of the mini store with every input present (D-7 prices exist from 2016-11-08). */
const days = (n: number): string[] => Array.from({ length: n }, (_, i) => new Date(Date.UTC(2016, 11, 20 - i)).toISOString().slice(0, 10));

/** One raw request over node:http (any method, any body text), written as one packet. */
function raw(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method, headers: body === undefined ? headers : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of one Prometheus sample (0 when absent). */
async function sample(s: TestServer, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await s.deps.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  const found = metric.find((v) => Object.entries(labels).every(([k, x]) => String((v.labels as Record<string, unknown>)[k]) === x));
  return found?.value ?? 0;
}

// ---- 1. work bounded, yielding, cancellable ----------------------------------------

test('a batch is bounded in work, explanations counted: 422 naming the limit and how to split it', async () => {
  const explained = await call(url, 'POST', '/predict/batch', { body: { nodes: [COMED], market: 'da', dates: days(31), explain: true } });
  assert.is(explained.status, 422, explained.text);
  assert.is(explained.json.error.code, 'work_limit_exceeded');
  assert.match(explained.json.error.message, /31 node-days with explain/);
  assert.match(explained.json.error.message, /limit is 500/);
  assert.match(explained.json.error.message, /at most 20 explained node-days/);
  assert.is(explained.json.error.limit, 500);
  assert.is(explained.json.error.cost, 31 * 25);
  // The same request without explanations is within the limit.
  const plain = await call(url, 'POST', '/predict/batch', { body: { nodes: [COMED], market: 'da', dates: days(31) } });
  assert.is(plain.status, 200, plain.text);
  // Too many plain node-days: the same error, not a 200 of 600 items.
  const tooMany = await call(url, 'POST', '/predict/batch', { body: { nodes: Array.from({ length: 100 }, () => COMED), market: 'da', dates: days(6) } });
  assert.is(tooMany.status, 422);
  assert.match(tooMany.json.error.message, /600 node-days/);
  // Feature rows with explanations count too: 1,000 explained rows is ~42 explained node-days.
  const rows = Array.from({ length: 1000 }, () => ({ features: {} }));
  const features = await call(url, 'POST', '/predict/features', { body: { node: COMED, market: 'da', rows, explain: true } });
  assert.is(features.status, 422, features.text);
  assert.is(features.json.error.code, 'work_limit_exceeded');
  assert.match(features.json.error.message, /1000 feature rows with explain/);
});

test('a CPU-bound batch (cached features, explain) yields: the request timeout answers, and the rest of the batch is abandoned', async () => {
  const slow = await startTestServer(instance, { requestTimeoutMs: 1 });
  try {
    // Warm the feature cache directly, so the batch itself does no I/O at all: without
    // yielding, nothing could interrupt it before its last item.
    const node = await slow.deps.features.resolveNode(COMED);
    for (const day of days(20)) await slow.deps.features.forDay(node, 'da', day);
    const r = await raw(slow.url, 'POST', '/predict/batch', JSON.stringify({ nodes: [COMED], market: 'da', dates: days(20), explain: true }));
    assert.is(r.status, 503, r.text.slice(0, 300));
    assert.is(JSON.parse(r.text).error.code, 'request_timeout');
    await eventually(async () => (await sample(slow, 'predictions_total', { form: 'batch', outcome: 'canceled' })) === 1, 10_000, 'the batch to be abandoned');
    assert.ok((await sample(slow, 'predictions_total', { form: 'batch', outcome: 'ok' })) < 20, 'not every item was computed');
  } finally {
    await slow.stop();
  }
});

test('shutdown during a long batch: the drain limit holds and the abandoned batch stops', async () => {
  // A drain limit of 1 ms: the 30 items left after the first take longer than that however
  // fast a node-day is (its features come from rows in memory since the node's first item, a
  // few ms or less each; with 50 ms the whole batch sometimes finished in time on a fast machine).
  const draining = await startTestServer(instance, { drainTimeoutMs: 1 });
  const reply = call(draining.url, 'POST', '/predict/batch', { body: { nodes: [COMED], market: 'da', dates: days(31) } }).then(
    (r) => r.status,
    () => 'cut' as const,
  );
  await eventually(async () => (await sample(draining, 'predictions_total', { form: 'batch', outcome: 'ok' })) >= 1, 10_000, 'the batch to start');
  const drained = await draining.close();
  assert.is(drained, false, 'the batch could not finish within 1 ms');
  assert.is(await reply, 'cut');
  await eventually(
    async () => (await sample(draining, 'predictions_total', { form: 'batch', outcome: 'canceled' })) === 1,
    10_000,
    'the batch to be abandoned',
  );
  assert.ok((await sample(draining, 'predictions_total', { form: 'batch', outcome: 'ok' })) < 31);
});

// ---- 2. unknown methods -------------------------------------------------------------

test('methods the server does not implement: 501 with a JSON body, on any route', async () => {
  for (const method of ['TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'MKCOL', 'LOCK', 'QUERY', 'LINK']) {
    for (const path of ['/predict', '/api/runs', '/nowhere']) {
      const r = await raw(url, method, path);
      assert.is(r.status, 501, `${method} ${path}: ${r.text}`);
      const body = JSON.parse(r.text);
      assert.is(body.error.code, 'not_implemented');
      assert.match(body.error.message, new RegExp(`${method} is not a method this server implements`));
    }
  }
  const wrong = await raw(url, 'PUT', '/predict');
  assert.is(wrong.status, 405);
  assert.is(wrong.headers['allow'], 'POST');
  assert.is(JSON.parse(wrong.text).error.code, 'method_not_allowed');
});

test('a request line Node cannot parse still gets a JSON error', async () => {
  const r = await raw(url, 'FOO', '/predict');
  assert.is(r.status, 400);
  assert.is(JSON.parse(r.text).error.code, 'bad_request');
});

// ---- 3. and 5. numbers ---------------------------------------------------------------

test('JSON numbers that are not finite or safe integers fail validation, naming the field', async () => {
  for (const node of ['1e400', '-1e400', '12345678901234567890']) {
    const r = await raw(url, 'POST', '/predict', `{"node": ${node}, "market": "da", "date": "${GOOD_DAY}"}`);
    assert.is(r.status, 400, `${node}: ${r.text}`);
    const body = JSON.parse(r.text);
    assert.is(body.error.code, 'validation_failed');
    assert.ok(
      body.error.problems.some((p: { path: string }) => p.path === 'body/node'),
      r.text,
    );
  }
  const features = await raw(url, 'POST', '/predict/features', `{"node": ${COMED}, "market": "da", "rows": [{"features": {"hour": 1e400}}]}`);
  assert.is(features.status, 400, features.text);
  assert.ok(
    JSON.parse(features.text).error.problems.some((p: { path: string }) => p.path === 'body/rows/0/features/hour'),
    features.text,
  );
});

test('GET /api/runs with offset or limit beyond a safe integer: 400 naming the field, and the store refuses them too', async () => {
  for (const [q, field] of [
    ['offset=99999999999999999999', 'query/offset'],
    ['limit=1e400', 'query/limit'],
    ['offset=1e400', 'query/offset'],
  ] as const) {
    const r = await call(url, 'GET', `/api/runs?${q}`);
    assert.is(r.status, 400, `${q}: ${r.text}`);
    assert.ok(
      r.json.error.problems.some((p: { path: string }) => p.path === field),
      r.text,
    );
  }
  for (const id of ['99999999999999999999', '1e400']) {
    const r = await call(url, 'GET', `/api/materializations/${id}/lineage`);
    assert.is(r.status, 400, `${id}: ${r.text}`);
  }
  assert.is((await call(url, 'GET', '/api/runs?offset=1')).status, 200);
  await instance.store.listRuns({ offset: 1e20 }).then(
    () => assert.unreachable('listRuns accepted a bad argument'),
    (err: Error) => assert.match(err.message, /listRuns: offset must be a whole number from 0 to 9007199254740991, got 100000000000000000000/),
  );
  await instance.store.listRuns({ limit: Number.NaN }).then(
    () => assert.unreachable('listRuns accepted a bad argument'),
    (err: Error) => assert.match(err.message, /listRuns: limit must be a whole number/),
  );
});

// ---- 6. safer defaults ---------------------------------------------------------------

test('without SERVING_API_TOKEN, state-changing routes accept only loopback callers (403 saying to set the token)', async () => {
  // The same server as seen by a caller on another host: the peer test says "not local".
  const open = await startTestServer(instance, {}, { isLocalPeer: () => false });
  try {
    const run = await call(open.url, 'POST', '/api/materialize', { body: { selection: 'pjm/validated/prices', mode: 'stale-only' } });
    assert.is(run.status, 403, run.text);
    assert.is(run.json.error.code, 'forbidden');
    assert.match(run.json.error.message, /set SERVING_API_TOKEN/);
    const cancel = await call(open.url, 'POST', '/api/runs/some-run/cancel');
    assert.is(cancel.status, 403);
    // Reads, and POSTs that only compute an answer, stay open.
    assert.is((await call(open.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } })).status, 200);
    assert.is((await call(open.url, 'GET', '/api/runs')).status, 200);
  } finally {
    await open.stop();
  }
  // With a token, the token decides, wherever the caller is.
  const secured = await startTestServer(instance, { apiToken: 'tok-123' }, { isLocalPeer: () => false });
  try {
    const bad = await call(secured.url, 'POST', '/api/materialize', {
      body: { selection: 'nope', mode: 'stale-only' },
      headers: { authorization: 'Bearer tok-123' },
    });
    assert.is(bad.status, 400, bad.text);
  } finally {
    await secured.stop();
  }
  // A loopback caller of the default server may (the request reaches the route: an unknown asset is a 400).
  const local = await call(url, 'POST', '/api/materialize', { body: { selection: 'nope', mode: 'stale-only' } });
  assert.is(local.status, 400, local.text);
});

test('security headers on the UI, the API and the docs', async () => {
  for (const path of ['/', '/ui/app.js', '/api/graph', '/health', '/docs', '/nowhere']) {
    const r = await call(url, 'GET', path);
    assert.is(r.headers.get('x-content-type-options'), 'nosniff', path);
    assert.is(r.headers.get('x-frame-options'), 'DENY', path);
    assert.is(r.headers.get('referrer-policy'), 'no-referrer', path);
    const csp = r.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/, path);
    assert.match(csp, /script-src 'self'(;|$)/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
  }
  const predict = await call(url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } });
  assert.is(predict.headers.get('x-content-type-options'), 'nosniff');
});

test.run();
