// The executor's promises: checks gate publishing, failures skip downstream
// and say why, retries back off, cancellation publishes nothing, and every
// materialization records what it consumed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, dailyPartitions, defineAsset, defineDefinitions, materialize, type AssetDefinition, type RunEvent } from '../../runtime/index.ts';
import { lineageOf } from '../../runtime/lineage.ts';
import { tempDir } from '../support/tmp.ts';

const state = { checkPasses: true, failuresLeft: 0, value: 1, slowMs: 0 };

function defs() {
  const source = defineAsset({
    key: 'source',
    codeVersion: '1',
    retry: { maxAttempts: 3, backoffMs: 10 },
    materialize() {
      if (state.failuresLeft > 0) {
        state.failuresLeft--;
        throw new Error('upstream API answered 503');
      }
      return { value: { v: state.value } };
    },
  });
  const table = defineAsset({
    key: 'table',
    deps: ['source'],
    codeVersion: '1',
    io: 'table',
    checks: [
      {
        name: 'has_rows',
        check: async () => ({ passed: state.checkPasses, message: state.checkPasses ? '' : 'no rows for 2025-05-01', metadata: { rows: 0 } }),
      },
      { name: 'soft', blocking: false, check: () => ({ passed: false, message: 'just a warning' }) },
    ],
    async materialize(ctx) {
      const { v } = await ctx.input('source').json<{ v: number }>();
      if (state.slowMs) await new Promise((r) => setTimeout(r, state.slowMs));
      return { sql: `SELECT range AS i, range * ${v} AS x FROM range(5) ORDER BY i` };
    },
  });
  const model = defineAsset({
    key: 'model',
    deps: ['table'],
    codeVersion: '1',
    io: 'file',
    materialize: () => ({ file: new TextEncoder().encode('model-bytes') }),
  });
  return defineDefinitions({ assets: [source, table, model] as AssetDefinition<unknown>[] });
}

test('a failed blocking check keeps the new version unpublished and skips downstream, saying why', async () => {
  const i = await Instance.open(defs(), { dataDir: tempDir('exec') });
  state.checkPasses = true;
  state.value = 1;
  const first = await materialize(i, { trigger: 'test' });
  assert.is(first.status, 'succeeded');
  const good = (await i.store.current('table' as never, ''))!;
  assert.is((await i.store.materialization(good.id))!.metadata.rowCount, 5);

  state.checkPasses = false;
  state.value = 2;
  const events: RunEvent[] = [];
  const second = await materialize(i, { force: true, trigger: 'test', onEvent: (e) => events.push(e) });
  assert.is(second.status, 'failed');
  assert.is(second.counts.blocked, 1);
  assert.is((await i.store.current('table' as never, ''))!.id, good.id, 'previous version is still current');
  const skipped = events.find((e) => e.type === 'step_skipped' && e.asset === 'model');
  assert.ok(skipped && skipped.type === 'step_skipped');
  assert.match((skipped as { reason: string }).reason, /upstream table was blocked by a failed check/);
  const blocked = (await i.store.history('table' as never, { limit: 1 }))[0]!;
  assert.is(blocked.status, 'blocked');
  const checks = await i.store.checkResults(blocked.id);
  assert.equal(
    checks.map((c) => [c.name, c.passed, c.blocking]),
    [
      ['has_rows', false, true],
      ['soft', false, false],
    ],
  );
  assert.is(checks[0]!.message, 'no rows for 2025-05-01');
  // The run log says the same thing.
  const stored = (await i.store.events(second.runId)).map((e) => e.message);
  assert.ok(
    stored.some((m) => /table: not published, blocking check has_rows failed: has_rows: no rows for 2025-05-01/.test(m)),
    stored.join('\n'),
  );
  // Events can be filtered by type in the store.
  const blockedSteps = await i.store.events(second.runId, { types: ['step_blocked', 'step_skipped'] });
  assert.equal(
    blockedSteps.map((e) => [e.type, e.asset]),
    [
      ['step_blocked', 'table'],
      ['step_skipped', 'model'],
    ],
  );
  assert.is((await i.store.events(second.runId, { types: [] })).length, 0);
  assert.ok((await i.store.getRun(second.runId))!.heartbeatAt >= (await i.store.getRun(second.runId))!.startedAt);
  state.checkPasses = true;
  await i.close();
});

test('a check knows whether the run was forced: ctx.forced is true only under force', async () => {
  const seen: boolean[] = [];
  const guarded = defineAsset({
    key: 'guarded',
    codeVersion: '1',
    checks: [
      {
        name: 'sees_force',
        check: (ctx) => {
          seen.push(ctx.forced);
          return { passed: true };
        },
      },
    ],
    materialize: () => ({ value: seen.length }),
  });
  const i = await Instance.open(defineDefinitions({ assets: [guarded] as AssetDefinition<unknown>[] }), { dataDir: tempDir('exec') });
  assert.is((await materialize(i, { trigger: 'test' })).status, 'succeeded');
  assert.is((await materialize(i, { trigger: 'test', force: true })).status, 'succeeded');
  assert.equal(seen, [false, true]);
  await i.close();
});

test('retries back off and then succeed; a step that keeps failing skips its downstream', async () => {
  const i = await Instance.open(defs(), { dataDir: tempDir('exec') });
  state.failuresLeft = 2;
  const events: RunEvent[] = [];
  const ok = await materialize(i, { trigger: 'test', onEvent: (e) => events.push(e) });
  assert.is(ok.status, 'succeeded');
  assert.is(events.filter((e) => e.type === 'step_retrying').length, 2);

  state.failuresLeft = 5;
  const bad = await materialize(i, { force: true, trigger: 'test' });
  assert.is(bad.status, 'failed');
  assert.is(bad.counts.failed, 1);
  assert.is(bad.counts.skipped, 2);
  assert.equal(bad.failures, [{ asset: 'source', partition: '', error: 'upstream API answered 503' }]);
  const run = (await i.store.getRun(bad.runId))!;
  assert.is(run.status, 'failed');
  state.failuresLeft = 0;
  await i.close();
});

test('a step whose upstream was never materialized fails with what to do', async () => {
  const i = await Instance.open(defs(), { dataDir: tempDir('exec') });
  const r = await materialize(i, { selection: 'table', trigger: 'test' });
  assert.is(r.status, 'failed');
  assert.match(r.failures[0]!.error, /needs source, which is not materialized. Materialize upstream first \(select \+table\)/);
  await i.close();
});

test('cancel: in-flight steps publish nothing and the run is recorded as canceled', async () => {
  const i = await Instance.open(defs(), { dataDir: tempDir('exec') });
  await materialize(i, { selection: 'source', trigger: 'test' });
  state.slowMs = 300;
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const r = await materialize(i, { trigger: 'test', signal: controller.signal });
  state.slowMs = 0;
  assert.is(r.status, 'canceled');
  assert.is(await i.store.current('table' as never, ''), undefined);
  assert.is((await i.store.getRun(r.runId))!.status, 'canceled');
  await i.close();
});

test('lineage: each materialization records the upstream versions it consumed, and who consumed it', async () => {
  const i = await Instance.open(defs(), { dataDir: tempDir('exec') });
  await materialize(i, { trigger: 'test' });
  const model = (await i.store.current('model' as never, ''))!;
  const table = (await i.store.current('table' as never, ''))!;
  assert.equal(
    model.inputs.map((x) => [x.asset, x.materializationId, x.dataVersion]),
    [['table', table.id, table.dataVersion]],
  );
  const l = (await lineageOf(i.store, table.id))!;
  assert.equal(
    l.upstream.map((g) => g.asset),
    ['source'],
  );
  assert.equal(
    l.downstream.map((g) => g.asset),
    ['model'],
  );
  assert.is(l.downstream[0]!.entries[0]!.id, model.id);
  await i.close();
});

test('independent partitions run concurrently up to the limit', async () => {
  let running = 0;
  let peak = 0;
  const days = dailyPartitions({ start: '2025-05-01', end: '2025-05-08' });
  const a = defineAsset({
    key: 'slow',
    codeVersion: '1',
    partitions: days,
    async materialize(ctx) {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return { value: ctx.partition };
    },
  });
  const i = await Instance.open(defineDefinitions({ assets: [a] as AssetDefinition<unknown>[] }), { dataDir: tempDir('exec') });
  const r = await materialize(i, { trigger: 'test', concurrency: 3 });
  assert.is(r.counts.materialized, 8);
  assert.is(peak, 3);
  await i.close();
});

test('assets sharing a pool never run at the same time, others still do', async () => {
  let inPool = 0;
  let poolPeak = 0;
  let running = 0;
  let peak = 0;
  const make = (key: string, pool?: string) =>
    defineAsset({
      key,
      pool,
      codeVersion: '1',
      async materialize() {
        running++;
        peak = Math.max(peak, running);
        if (pool) poolPeak = Math.max(poolPeak, ++inPool);
        await new Promise((r) => setTimeout(r, 40));
        if (pool) inPool--;
        running--;
        return { value: key };
      },
    });
  const assets = [make('train_a', 'cpu'), make('train_b', 'cpu'), make('train_c', 'cpu'), make('light_a'), make('light_b')];
  const i = await Instance.open(defineDefinitions({ assets: assets as AssetDefinition<unknown>[] }), { dataDir: tempDir('exec') });
  const r = await materialize(i, { trigger: 'test', concurrency: 4 });
  assert.is(r.counts.materialized, 5);
  assert.is(poolPeak, 1);
  assert.ok(peak >= 2, 'steps outside the pool ran alongside');
  await i.close();
});

test.run();
