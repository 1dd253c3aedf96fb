// The model's life in a running server: none yet (503 with the reason), the first one
// arriving without a restart, a new one swapped in while requests stream with none failing,
// and a blocked materialization never replacing the model that serves.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { call, COMED, eventually, GOOD_DAY, materializeMini, modelState, openMini, startTestServer, type Reply, type TestServer } from './support/server.ts';

let server: TestServer;

test.before(async () => {
  server = await startTestServer(await openMini());
});

test.after(async () => {
  await server.stop();
  await server.instance.close();
});

const predict = (): Promise<Reply> => call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY } });
const currentModelId = async (): Promise<number | undefined> => (await server.instance.store.current('pjm/model' as never, ''))?.id;

test('no model yet: /ready, /predict and /model answer 503 with the reason', async () => {
  const ready = await call(server.url, 'GET', '/ready');
  assert.is(ready.status, 503);
  assert.is(ready.json.error.code, 'no_model');
  assert.match(ready.json.error.message, /No pjm\/model materialization is current in the lineage store .*lineage\.sqlite.*Materialize it first/);
  assert.ok(ready.headers.get('retry-after'));
  const p = await predict();
  assert.is(p.status, 503);
  assert.is(p.json.error.code, 'no_model');
  assert.is((await call(server.url, 'GET', '/model')).status, 503);
  assert.is((await call(server.url, 'GET', '/health')).status, 200, 'alive all the same');
});

test('the first model is picked up without a restart', async () => {
  modelState.seed = 7;
  await materializeMini(server.instance);
  await eventually(async () => (await call(server.url, 'GET', '/ready')).status === 200, 5_000, '/ready to turn 200');
  const p = await predict();
  assert.is(p.status, 200);
  assert.is(p.json.model.materializationId, await currentModelId());
});

test('hot swap in the middle of a stream of requests: no request fails, answers move to the new model', async () => {
  const oldId = (await currentModelId())!;
  const seen = new Map<number, number>();
  const failures: string[] = [];
  let streaming = true;
  const worker = async () => {
    while (streaming) {
      const explain = Math.random() < 0.3;
      const r = await call(server.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY, explain } });
      if (r.status !== 200) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
      else seen.set(r.json.model.materializationId, (seen.get(r.json.model.materializationId) ?? 0) + 1);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  // A different seed trains a different model: a new data version and a new materialization.
  modelState.seed = 8;
  await materializeMini(server.instance, { selection: 'pjm/model', force: true });
  const newId = (await currentModelId())!;
  assert.is.not(newId, oldId);
  await eventually(() => (seen.get(newId) ?? 0) > 20, 10_000, 'answers from the new model');
  streaming = false;
  await Promise.all(workers);
  assert.equal(failures, []);
  assert.ok((seen.get(oldId) ?? 0) > 0, 'answers from the old model before the swap');
  const ready = await call(server.url, 'GET', '/ready');
  assert.is(ready.json.model.materializationId, newId);
  const metrics = (await call(server.url, 'GET', '/metrics')).text;
  assert.match(metrics, /model_swaps_total\{result="loaded"\} 2/);
  assert.match(metrics, new RegExp(`model_info\\{materialization_id="${newId}"`));
  assert.not.match(metrics, new RegExp(`model_info\\{materialization_id="${oldId}"`));
});

test('a blocked materialization never replaces the serving model', async () => {
  const serving = (await currentModelId())!;
  modelState.seed = 9;
  modelState.block = true;
  try {
    await materializeMini(server.instance, { selection: 'pjm/model', force: true }).then(
      () => assert.unreachable('the blocked run should not succeed'),
      (err: Error) => assert.match(err.message, /failed/),
    );
  } finally {
    modelState.block = false;
  }
  const attempt = (await server.instance.store.history('pjm/model' as never, { limit: 1 }))[0]!;
  assert.is(attempt.status, 'blocked');
  await new Promise((r) => setTimeout(r, 200)); // several poll intervals
  const p = await predict();
  assert.is(p.status, 200);
  assert.is(p.json.model.materializationId, serving);
});

test('a model that cannot be loaded never replaces the serving model, and the failure is counted', async () => {
  const serving = (await currentModelId())!;
  const { store, storage } = server.instance;
  const good = (await store.materialization(serving))!;
  // A published materialization whose file is not a model (say, a truncated upload).
  const dir = await storage.makeTempDir('broken-model');
  const tempPath = `${dir}/model.bin`;
  writeFileSync(tempPath, '{"learner": truncated');
  const location = await storage.publish({ tempPath, asset: 'pjm/model' as never, partition: '', dataVersion: 'broken0000000000' as never, io: 'file' });
  const now = Date.now();
  await store.createRun({ id: 'broken-run', selection: 'pjm/model', partitions: null, trigger: 'test', now });
  const brokenId = await store.commitMaterialization({
    asset: 'pjm/model' as never,
    partition: '',
    runId: 'broken-run',
    status: 'published',
    codeVersion: good.codeVersion,
    dataVersion: 'broken0000000000' as never,
    location,
    metadata: good.metadata,
    startedAt: now,
    endedAt: now,
    inputs: [],
    checks: [],
    events: [],
  });
  await store.finishRun('broken-run', 'succeeded', {}, null, now);
  assert.is(await currentModelId(), brokenId, 'the store now points at the broken model');
  await eventually(async () => /model_swaps_total\{result="failed"\} 1/.test((await call(server.url, 'GET', '/metrics')).text), 5_000, 'the failed load');
  const p = await predict();
  assert.is(p.status, 200);
  assert.is(p.json.model.materializationId, serving);
  const ready = await call(server.url, 'GET', '/ready');
  assert.is(ready.json.model.materializationId, serving);
  assert.is(ready.json.newerModelFailed.materializationId, brokenId);
  assert.match(ready.json.newerModelFailed.message, /could not be loaded/);
});

test.run();
