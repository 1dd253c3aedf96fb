// The answer cache of POST /predict and the cached lane that serves it before Koa: a repeat of
// a request answered 200 gets the very bytes sent before, with the same headers, access-log
// line and metrics as the first answer (which Koa gave); other options, another day, another
// content type, a wrong token or a new model never take an old answer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../serving/server.ts';
import { call, COMED, eventually, GOOD_DAY, materializeMini, modelState, openMini, startTestServer, type Reply, type TestServer } from './support/server.ts';

const TOKEN = 'lane-token-0123456789';
const raw: string[] = [];
const log = createLogger('info', { write: (line: string) => void raw.push(line) });
const lines = (): Record<string, unknown>[] => raw.flatMap((chunk) => chunk.trim().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);

let server: TestServer;

test.before(async () => {
  const instance = await openMini();
  await materializeMini(instance);
  server = await startTestServer(instance, { apiToken: TOKEN }, { log });
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const predict = (body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
  call(server.url, 'POST', '/predict', { body, headers: { ...auth, ...headers } });
const metric = async (series: string): Promise<number> => {
  const text = (await call(server.url, 'GET', '/metrics')).text;
  const m = new RegExp(`^${series.replace(/[{}"/]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
};
/** Response headers without the ones that differ per response by nature. */
const stableHeaders = (r: Reply): Record<string, string> => Object.fromEntries([...r.headers].filter(([k]) => k !== 'date' && k !== 'x-request-id'));

test('a repeat is answered by the lane with the same bytes, headers, access line and metrics as Koa gave the first time', async () => {
  const body = { node: COMED, market: 'da', date: GOOD_DAY };
  const lane = server.deps.predictLane;
  const requests = () => metric('http_requests_total{method="POST",route="/predict",status="200"}');
  const predictions = () => metric('predictions_total{market="da",form="day",outcome="ok"}');
  const [requestsBefore, predictionsBefore, answeredBefore] = [await requests(), await predictions(), lane.answered];
  const first = await predict(body, { 'x-request-id': 'first-1' });
  assert.is(first.status, 200, first.text);
  assert.is(lane.answered, answeredBefore, 'the first answer came from Koa');
  const second = await predict(body, { 'x-request-id': 'second-2' });
  assert.is(lane.answered, answeredBefore + 1, 'the repeat came from the lane');
  assert.is(second.status, 200);
  assert.is(second.text, first.text);
  assert.equal(stableHeaders(second), stableHeaders(first));
  assert.is(second.headers.get('x-request-id'), 'second-2');
  assert.match(second.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  // An insane caller id is replaced by a fresh UUID, as Koa's request context does.
  const third = await predict(body, { 'x-request-id': 'not sane!' });
  assert.match(third.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.is(await requests(), requestsBefore + 3);
  assert.is(await predictions(), predictionsBefore + 3);
  const access = (id: string) => {
    const l = lines().find((x) => x['requestId'] === id && x['msg'] === 'request');
    return l && { method: l['method'], path: l['path'], status: l['status'], level: l['level'], hasMs: typeof l['ms'] === 'number' };
  };
  assert.ok(access('first-1'), 'the first answer is logged');
  assert.equal(access('second-2'), access('first-1'));
});

test('the answer cache hands out the serialized bytes it kept, not a new serialization', async () => {
  const req = { node: COMED, market: 'da' as const, date: GOOD_DAY };
  const a = await server.deps.predictions.day(req);
  const b = await server.deps.predictions.day(req);
  assert.ok(a === b, 'the same Buffer');
  assert.ok(server.deps.predictions.cachedDay(req) === a);
});

test('other options, another day or another spelling of the request miss the cache', async () => {
  const service = server.deps.predictions;
  const plain = { node: COMED, market: 'da' as const, date: GOOD_DAY };
  await service.day(plain);
  assert.ok(service.cachedDay(plain));
  assert.is(service.cachedDay({ ...plain, explain: true }), undefined, 'explained answers are not cached');
  assert.is(service.cachedDay({ ...plain, date: '2016-12-19' }), undefined, 'a day never asked');
  const explained = await predict({ ...plain, explain: true });
  const again = await predict({ ...plain, explain: true });
  assert.is(explained.status, 200);
  assert.ok(explained.json.forecasts[0].explanation, 'explain is answered with explanations, not the cached plain answer');
  assert.is(again.text, explained.text);
  // The lane keys on the body as sent: a body that differs only in spacing is validated and answered by Koa, with the same answer.
  const lane = server.deps.predictLane;
  const before = lane.answered;
  const spaced = await call(server.url, 'POST', '/predict', { raw: JSON.stringify(plain, null, 1), headers: auth });
  assert.is(spaced.status, 200);
  assert.is(lane.answered, before);
  assert.is(spaced.text, (await predict(plain)).text);
});

test('a repeated body with a wrong token, the wrong content type or an invalid field is refused as before', async () => {
  const body = { node: COMED, market: 'da', date: GOOD_DAY };
  assert.is((await predict(body)).status, 200);
  const wrong = await predict(body, { authorization: 'Bearer nope' });
  assert.is(wrong.status, 401);
  assert.is(wrong.json.error.code, 'unauthorized');
  assert.ok(wrong.json.error.requestId);
  const none = await call(server.url, 'POST', '/predict', { body });
  assert.is(none.status, 401);
  const text = await call(server.url, 'POST', '/predict', { raw: JSON.stringify(body), headers: { ...auth, 'content-type': 'text/plain' } });
  assert.is(text.status, 415);
  const bad = await predict({ ...body, date: '2016-13-01' });
  assert.is(bad.status, 400);
  assert.is(bad.json.error.code, 'validation_failed');
  assert.is((await predict({ ...body, date: '2016-13-01' })).status, 400, 'a refused body is never remembered');
});

test('a new model invalidates every cached answer', async () => {
  const body = { node: COMED, market: 'da', date: GOOD_DAY };
  const before = await predict(body);
  assert.is((await predict(body)).text, before.text);
  modelState.seed = 11;
  await materializeMini(server.instance, { selection: 'pjm/model', force: true });
  const newId = (await server.instance.store.current('pjm/model' as never, ''))!.id;
  assert.is.not(newId, before.json.model.materializationId);
  await eventually(() => server.deps.models.current()?.materializationId === newId, 20_000, 'the new model to be swapped in');
  const after = await predict(body);
  assert.is(after.status, 200);
  assert.is(after.json.model.materializationId, newId, 'the answer comes from the new model');
  assert.not.equal(after.json.forecasts, before.json.forecasts);
});

test.run();
