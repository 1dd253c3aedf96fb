// The run queue with real runs: two handles on one store (two processes: a server and a
// daemon, say) run their runs in the order queued under RUN_QUEUE_MAX_CONCURRENT and per-pool
// limits, a queued run canceled by anyone never starts, and the CLI lists and cancels queued runs.
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, defineAsset, defineDefinitions, prepareRun, type AssetDefinition } from '../../runtime/index.ts';
import Database from 'better-sqlite3';
import { RunQueue } from '../../runtime/queue/run-queue.ts';
import { CANCELED_ON_REQUEST } from '../../runtime/store/run-queue-records.ts';
import { runQueueSettingsFromEnv } from '../../runtime/settings.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const spans: { asset: string; start: number; end: number }[] = [];
function defs() {
  const slow = (key: string, pool?: string) =>
    defineAsset({
      key,
      codeVersion: '1',
      ...(pool ? { pool } : {}),
      materialize: async () => {
        const start = Date.now();
        await sleep(400);
        spans.push({ asset: key, start, end: Date.now() });
        return { value: start };
      },
    });
  return defineDefinitions({
    assets: [slow('a'), slow('b'), slow('c'), slow('train1', 'training'), slow('train2', 'training'), slow('prices')] as AssetDefinition<unknown>[],
  });
}

const run = async (queue: RunQueue, instance: Instance<unknown>, selection: string, hooks: Parameters<RunQueue['run']>[2] = {}) => {
  const req = { selection, force: true, trigger: 'api' as const };
  return queue.run(await prepareRun(instance, req), req, hooks);
};

test('two handles on one store: runs start in the order queued, one at a time under RUN_QUEUE_MAX_CONCURRENT=1', async () => {
  const dataDir = tempDir('queue-order');
  const [one, two] = [await Instance.open(defs(), { dataDir }), await Instance.open(defs(), { dataDir })];
  spans.length = 0;
  try {
    const limits = runQueueSettingsFromEnv({ RUN_QUEUE_MAX_CONCURRENT: '1' });
    const q1 = new RunQueue(one, limits, { pollMs: 50 });
    const q2 = new RunQueue(two, limits, { pollMs: 50 });
    const waits: string[] = [];
    const first = run(q1, one, 'a');
    await sleep(50);
    const second = run(q2, two, 'b', { onWaiting: (w) => waits.push(`b: ${w}`) });
    await sleep(50);
    const third = run(q1, one, 'c');
    const outcomes = await Promise.all([first, second, third]);
    assert.equal(
      outcomes.map((o) => (o.kind === 'ran' ? o.result.status : o.kind)),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    assert.equal(
      spans.map((s) => s.asset),
      ['a', 'b', 'c'],
    );
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.start >= spans[i - 1]!.end, `${spans[i]!.asset} started before ${spans[i - 1]!.asset} ended`);
    assert.equal(waits, ['b: 1 runs are running, the most allowed at once (RUN_QUEUE_MAX_CONCURRENT=1)']);
    assert.equal(await one.store.runQueue({ states: ['queued', 'launched'] }), []);
  } finally {
    await one.close();
    await two.close();
  }
});

test('a pool limit: the second training run waits, a run outside the pool goes ahead of it', async () => {
  const dataDir = tempDir('queue-pool');
  const instance = await Instance.open(defs(), { dataDir });
  spans.length = 0;
  try {
    const queue = new RunQueue(instance, runQueueSettingsFromEnv({ RUN_QUEUE_MAX_CONCURRENT: '3', RUN_QUEUE_POOL_LIMITS: 'training=1' }), { pollMs: 50 });
    const t1 = run(queue, instance, 'train1');
    await sleep(50);
    const t2 = run(queue, instance, 'train2');
    await sleep(50);
    const prices = run(queue, instance, 'prices');
    await Promise.all([t1, t2, prices]);
    const at = (a: string) => spans.find((s) => s.asset === a)!;
    assert.ok(at('train2').start >= at('train1').end, 'the training pool ran one at a time');
    assert.ok(at('prices').start < at('train1').end, 'prices did not wait for the training pool');
  } finally {
    await instance.close();
  }
});

test('a queued run canceled from another handle never starts; its waiter learns it', async () => {
  const dataDir = tempDir('queue-cancel');
  const [one, two] = [await Instance.open(defs(), { dataDir }), await Instance.open(defs(), { dataDir })];
  spans.length = 0;
  try {
    const queue = new RunQueue(one, runQueueSettingsFromEnv({ RUN_QUEUE_MAX_CONCURRENT: '1' }), { pollMs: 50 });
    const first = run(queue, one, 'a');
    await sleep(50);
    let queuedId = '';
    const second = run(queue, one, 'b', { onWaiting: () => undefined });
    for (let i = 0; i < 40 && !queuedId; i++, await sleep(25)) queuedId = (await two.store.runQueue({ states: ['queued'] }))[0]?.runId ?? '';
    assert.ok(queuedId, 'b was queued');
    assert.equal(await two.store.cancelQueuedRun(queuedId), { canceled: true });
    assert.equal(await second, { kind: 'canceled', runId: queuedId, reason: CANCELED_ON_REQUEST });
    await first;
    assert.equal(
      spans.map((s) => s.asset),
      ['a'],
    );
    assert.is(await one.store.getRun(queuedId), undefined);
  } finally {
    await one.close();
    await two.close();
  }
});

test('a run queued on another host whose process stopped heartbeating is canceled at the next claim, saying why; a heartbeating one is kept', async () => {
  const dataDir = tempDir('queue-dead-host');
  const instance = await Instance.open(defs(), { dataDir });
  try {
    const now = Date.now();
    const row = (runId: string, enqueuedAt: number) => ({
      runId,
      selection: 'prices',
      partitions: null,
      force: true,
      trigger: 'api' as const,
      pools: [],
      enqueuedAt,
    });
    await instance.store.enqueueRun(row('20261203T090000-dead00', now - 200_000));
    await instance.store.enqueueRun(row('20261203T090000-alive0', now - 200_000));
    // Two rows another host queued (the store only ever records this process as the owner); the
    // first one's process went quiet 200 s ago by the store's clock, which stamps heartbeats.
    const db = new Database(instance.store.location);
    db.prepare(`UPDATE run_queue SET owner_host = 'worker-7.example', owner_pid = 4242`).run();
    db.prepare(`UPDATE run_queue SET heartbeat_at = heartbeat_at - 200000 WHERE run_id = '20261203T090000-dead00'`).run();
    db.close();
    // The second one's process is alive over there: it heartbeats.
    await instance.store.heartbeatQueuedRuns(['20261203T090000-alive0']);
    const queue = new RunQueue(instance, runQueueSettingsFromEnv({ RUN_QUEUE_MAX_CONCURRENT: '4' }), { pollMs: 50 });
    const outcome = await run(queue, instance, 'a');
    assert.is(outcome.kind === 'ran' && outcome.result.status, 'succeeded');
    const dead = (await instance.store.queuedRun('20261203T090000-dead00'))!;
    assert.is(dead.state, 'canceled');
    assert.match(
      dead.cancelReason ?? '',
      /^canceled: the process that queued it \(pid 4242 on worker-7\.example\) has sent no heartbeat for 20\d s \(a waiting process heartbeats every 10 s; after 90 s it is taken for dead\), and only it could start it$/,
    );
    const alive = (await instance.store.queuedRun('20261203T090000-alive0'))!;
    assert.equal([alive.state, alive.cancelReason, alive.ownerHost], ['queued', null, 'worker-7.example']);
  } finally {
    await instance.close();
  }
});

test('a run waiting its turn is heartbeaten by the process that queued it', async () => {
  const dataDir = tempDir('queue-heartbeat');
  const instance = await Instance.open(defs(), { dataDir });
  try {
    const queue = new RunQueue(instance, runQueueSettingsFromEnv({ RUN_QUEUE_MAX_CONCURRENT: '1' }), { pollMs: 50, heartbeatMs: 60 });
    const first = run(queue, instance, 'a');
    await sleep(50);
    const second = run(queue, instance, 'b', { onWaiting: () => undefined });
    await sleep(250);
    const [waiting] = await instance.store.runQueue({ states: ['queued'] });
    assert.ok(waiting, 'b is queued');
    assert.ok(waiting.heartbeatAt > waiting.enqueuedAt, `heartbeat ${waiting.heartbeatAt} after queued ${waiting.enqueuedAt}`);
    await Promise.all([first, second]);
  } finally {
    await instance.close();
  }
});

test('materialize runs lists a queued run; materialize runs cancel ID cancels it; a bad queue setting is exit 2', async () => {
  const dataDir = tempDir('queue-cli');
  const instance = await Instance.open(defs(), { dataDir });
  try {
    // Queued by this (live) process; the CLI sees it in the shared store.
    await instance.store.enqueueRun({
      runId: '20261202T140000-abcdef',
      selection: 'train1',
      partitions: null,
      force: true,
      trigger: 'api',
      pools: ['training'],
      enqueuedAt: Date.parse('2026-12-02T14:00:00Z'),
    });
    const env = { DATA_DIR: dataDir, ASSET_DEFINITIONS: 'test/fixtures/automation/definitions.ts' };
    const list = await runCli(['runs'], env);
    assert.is(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^QUEUED RUN\s+TRIGGER\s+QUEUED \(UTC\)\s+POOLS\s+SELECTION\n20261202T140000-abcdef\s+api\s+2026-12-02 14:00:00\s+training\s+train1$/m,
    );
    const cancel = await runCli(['runs', 'cancel', '20261202T140000-abcdef'], env);
    assert.is(cancel.code, 0, cancel.stderr);
    assert.match(cancel.stdout, /canceled run 20261202T140000-abcdef: it was queued and will not start/);
    const again = await runCli(['runs', 'cancel', '20261202T140000-abcdef'], env);
    assert.is(again.code, 2);
    assert.match(again.stderr, /Run 20261202T140000-abcdef is not queued \(it canceled\); nothing to cancel/);
    assert.match((await runCli(['runs', 'cancel', 'nope'], env)).stderr, /No run nope\. See `materialize runs`/);
    const bad = await runCli(['status'], { ...env, RUN_QUEUE_POOL_LIMITS: 'training=0' });
    assert.is(bad.code, 2);
    assert.match(bad.stderr, /RUN_QUEUE_POOL_LIMITS="training=0" is not valid: expected pool=N pairs/);
  } finally {
    await instance.close();
  }
});

test.run();
