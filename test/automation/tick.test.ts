// Automation against a real store: schedules, sensors and eager policies evaluated by
// runTick, the runs they launch through the ordinary materialize path, what the store keeps
// (ticks, cursors, claims) across restarts, and two daemons on one store.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, dailyPartitions, defineAsset, defineDefinitions, materialize, type AssetDefinition, type Schedule } from '../../runtime/index.ts';
import { runDaemon } from '../../runtime/automation/daemon.ts';
import { defineSensor, type Sensor } from '../../runtime/automation/sensors.ts';
import { runTick } from '../../runtime/automation/tick.ts';
import { runCli, startCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const calls = { counter: 0, derived: 0 };
let sourceValue = 1;

function defs(options: { schedules?: Schedule[]; sensors?: Sensor<unknown>[] } = {}) {
  return defineDefinitions({
    assets: [
      defineAsset({ key: 'counter', codeVersion: '1', materialize: () => ({ value: ++calls.counter }) }),
      defineAsset({ key: 'source', codeVersion: '1', source: true, materialize: () => ({ value: sourceValue }) }),
      defineAsset({
        key: 'derived',
        deps: ['source'],
        codeVersion: '1',
        automation: { kind: 'eager' },
        materialize: async (ctx) => ({ value: `${++calls.derived}:${await ctx.input('source').json()}` }),
      }),
    ] as AssetDefinition<unknown>[],
    ...options,
  });
}

const daily: Schedule = { name: 'daily', cron: '30 14 * * *', timezone: 'America/New_York', selection: 'counter', force: true };

test('a schedule fires once per due time across the autumn DST change, and not again after a restart', async () => {
  const dataDir = tempDir('auto-sched');
  calls.counter = 0;
  // Ticks every 20 minutes around 14:30 New York time on Oct 31 (EDT), Nov 1 and Nov 2 (EST).
  const times: Date[] = [];
  for (const day of ['2026-10-31', '2026-11-01', '2026-11-02'])
    for (let m = 0; m < 240; m += 20) times.push(new Date(Date.parse(`${day}T17:00:00Z`) + m * 60_000));
  let instance = await Instance.open(defs({ schedules: [daily] }), { dataDir });
  for (const [i, now] of times.entries()) {
    // A restart halfway: a new process on the same store.
    if (i === times.length / 2) {
      await instance.close();
      instance = await Instance.open(defs({ schedules: [daily] }), { dataDir });
      // The restarted process re-evaluates the tick before the restart: nothing new.
      const again = await runTick(instance, { now: times[i - 1]!, daemonId: 'restarted' });
      assert.equal(again.runs, []);
    }
    await runTick(instance, { now, daemonId: 'd1' });
  }
  const runs = await instance.store.listRuns({ limit: 100 });
  assert.is(calls.counter, 3);
  assert.equal(
    runs.map((r) => r.trigger),
    ['schedule', 'schedule', 'schedule'],
  );
  const ticks = await instance.store.listTicks({ name: 'daily' });
  assert.equal(ticks.map((t) => t.evaluated).reverse(), [['2026-10-31T18:30:00.000Z'], ['2026-11-01T19:30:00.000Z'], ['2026-11-02T19:30:00.000Z']]);
  assert.ok(ticks.every((t) => t.requested.length === 1 && t.requested[0]!.outcome === 'launched' && runs.some((r) => r.id === t.requested[0]!.runId)));
  await instance.close();
});

test("a sensor's cursor survives a restart, its repeated requests are de-duplicated, and its failure is recorded in the tick", async () => {
  const dataDir = tempDir('auto-sensor');
  const posted = ['2026-12-01'];
  const seen: (string | undefined)[] = [];
  let fail = false;
  const sensor = defineSensor({
    name: 'posted',
    intervalMs: 60_000,
    evaluate: ({ cursor }) => {
      seen.push(cursor);
      if (fail) throw new Error('Data Miner answered 503');
      // It requests every posted day, even those before its cursor: the store's claims keep them single.
      return {
        runRequests: posted.map((d) => ({ selection: 'counter', dedupeKey: `posted:${d}`, reason: `prices of ${d} posted`, force: true })),
        cursor: posted.at(-1),
      };
    },
  });
  calls.counter = 0;
  const t0 = Date.parse('2026-12-01T19:00:00Z');
  let instance = await Instance.open(defs({ sensors: [sensor] }), { dataDir });
  await runTick(instance, { now: new Date(t0), daemonId: 'd1' });
  // Not due again within its interval.
  assert.equal(
    (await runTick(instance, { now: new Date(t0 + 30_000), daemonId: 'd1' })).ticks.filter((t) => t.kind === 'sensor'),
    [],
  );
  await instance.close();

  posted.push('2026-12-02');
  instance = await Instance.open(defs({ sensors: [sensor] }), { dataDir });
  const r = await runTick(instance, { now: new Date(t0 + 120_000), daemonId: 'd2' });
  assert.equal(seen, [undefined, '2026-12-01']);
  const sensorTick = r.ticks.find((t) => t.kind === 'sensor')!;
  assert.equal(
    sensorTick.requested.map((q) => [q.dedupeKey, q.outcome]),
    [
      ['posted:2026-12-01', 'duplicate'],
      ['posted:2026-12-02', 'launched'],
    ],
  );
  assert.match(sensorTick.requested[0]!.detail!, /already requested by d1/);
  assert.is(calls.counter, 2);

  fail = true;
  const failed = await runTick(instance, { now: new Date(t0 + 240_000), daemonId: 'd2' });
  const ft = failed.ticks.find((t) => t.kind === 'sensor')!;
  assert.is(ft.error, 'sensor posted failed: Data Miner answered 503');
  assert.is(ft.cursor, '2026-12-02'); // the cursor it had
  assert.is((await instance.store.automationCursors()).get('sensor:posted')!.cursor, '2026-12-02');
  await instance.close();
});

test('an eager asset runs once after its upstream changes, and not when the upstream is re-materialized with identical data', async () => {
  const dataDir = tempDir('auto-eager');
  calls.derived = 0;
  sourceValue = 1;
  const instance = await Instance.open(defs(), { dataDir });
  await materialize(instance, { selection: 'source', trigger: 'test' });
  const tick = () => runTick(instance, { daemonId: 'd1' });
  assert.equal(
    (await tick()).runs.map((r) => r.status),
    ['succeeded'],
  ); // derived was missing
  assert.is(calls.derived, 1);
  assert.equal((await tick()).runs, []);

  await materialize(instance, { selection: 'source', force: true, trigger: 'test' }); // same value: same data version
  assert.is((await instance.store.history('source' as never)).length, 2);
  const same = await tick();
  assert.equal(same.runs, []);
  assert.is(calls.derived, 1);

  sourceValue = 2;
  await materialize(instance, { selection: 'source', force: true, trigger: 'test' });
  const changed = await tick();
  assert.is(changed.runs.length, 1);
  const policy = changed.ticks.find((t) => t.kind === 'policy')!;
  assert.match(policy.requested[0]!.reason, /eager: source revised source: it now has data version/, policy.requested[0]!.reason);
  assert.is(calls.derived, 2);
  assert.equal((await tick()).runs, []);
  assert.is(calls.derived, 2);
  await instance.close();
});

test('two daemons on one store never start the same run twice', async () => {
  const dataDir = tempDir('auto-two');
  calls.counter = 0;
  calls.derived = 0;
  sourceValue = 7;
  const a = await Instance.open(defs({ schedules: [daily] }), { dataDir });
  const b = await Instance.open(defs({ schedules: [daily] }), { dataDir });
  await materialize(a, { selection: 'source', trigger: 'test' });
  for (let m = 0; m < 5; m++) {
    // Both tick at the same instants, concurrently: the schedule is due at 14:30 and derived is missing.
    const now = new Date(Date.parse('2026-12-02T19:20:00Z') + m * 5 * 60_000);
    await Promise.all([runTick(a, { now, daemonId: 'a' }), runTick(b, { now, daemonId: 'b' })]);
  }
  assert.is(calls.counter, 1);
  assert.is(calls.derived, 1);
  const ticks = await a.store.listTicks({ limit: 100 });
  const launched = ticks.flatMap((t) => t.requested.filter((q) => q.outcome === 'launched'));
  const duplicates = ticks.flatMap((t) => t.requested.filter((q) => q.outcome === 'duplicate'));
  assert.is(launched.length, 2);
  assert.ok(duplicates.length >= 1);
  await a.close();
  await b.close();
});

test('the daemon loop stops between ticks when asked', async () => {
  const dataDir = tempDir('auto-daemon');
  const instance = await Instance.open(defs(), { dataDir });
  await materialize(instance, { selection: 'source', trigger: 'test' });
  const stop = new AbortController();
  const started = Date.now();
  // A stop during the first tick: that tick finishes (its run included), the next never starts, and the wait is cut short.
  const { ticks } = await runDaemon(instance, { intervalMs: 60_000, stop: stop.signal, onTick: () => stop.abort() });
  assert.is(ticks, 1, `ticks ${ticks}`);
  assert.ok(Date.now() - started < 30_000);
  assert.equal(
    (await instance.store.listRuns()).map((r) => r.trigger),
    ['automation', 'test'],
  );
  await instance.close();
});

test('the daemon opens its definitions again every reopen.everyMs: partitions that end at the day they were loaded follow the clock', async () => {
  const dataDir = tempDir('auto-reopen');
  // As a live source's configuration: the last partition is the day before the one it was loaded on.
  let loadedEnd = '2026-11-02';
  const dayDefs = () =>
    defineDefinitions({
      assets: [
        defineAsset({
          key: 'day',
          codeVersion: '1',
          partitions: dailyPartitions({ start: '2026-11-01', end: loadedEnd }),
          automation: { kind: 'missing' },
          materialize: (ctx) => ({ value: ctx.partition }),
        }),
      ] as AssetDefinition<unknown>[],
    });
  const instance = await Instance.open(dayDefs(), { dataDir });
  const clock = [new Date('2026-11-03T12:00:00Z'), new Date('2026-11-03T12:30:00Z'), new Date('2026-11-04T13:00:00Z')];
  let ticked = 0;
  let closedByDaemon = 0;
  const requestedPerTick: string[][] = [];
  const stop = new AbortController();
  const { ticks, reopened } = await runDaemon(instance, {
    intervalMs: 0,
    stop: stop.signal,
    clock: () => clock[Math.min(ticked, clock.length - 1)]!,
    reopen: {
      everyMs: 3_600_000,
      open: async () => {
        loadedEnd = '2026-11-03';
        const next = await Instance.open(dayDefs(), { dataDir });
        const close = next.close.bind(next);
        next.close = async () => {
          closedByDaemon++;
          await close();
        };
        return next;
      },
    },
    onTick: (result) => {
      ticked++;
      requestedPerTick.push(result.ticks.flatMap((t) => t.requested.filter((r) => r.outcome === 'launched').flatMap((r) => r.partitions ?? [])));
      if (ticked === 3) stop.abort();
    },
  });
  assert.equal(
    [ticks, reopened, closedByDaemon],
    [3, 1, 1],
    'reopened once, 25 h after the first load (not after 30 min), and closed by the daemon at the end',
  );
  assert.ok(!requestedPerTick.slice(0, 2).flat().includes('2026-11-03'), `before the reopen, no tick knew 2026-11-03: ${JSON.stringify(requestedPerTick)}`);
  assert.ok(requestedPerTick[2]!.includes('2026-11-03'), `the tick after the reopen requested the new day: ${JSON.stringify(requestedPerTick)}`);
  assert.ok(await instance.store.current('day' as never, '2026-11-03'), 'and it was materialized');
  await instance.close();
});

test('materialize tick, ticks and daemon from the command line; SIGTERM stops the daemon cleanly', async () => {
  const dataDir = tempDir('auto-cli');
  writeFileSync(join(dataDir, 'source-value.txt'), 'a');
  const env = { DATA_DIR: dataDir, ASSET_DEFINITIONS: 'test/fixtures/automation/definitions.ts' };
  const first = await runCli(['tick'], env);
  assert.is(first.code, 0, first.stderr);
  assert.match(first.stdout, /schedule every_minute: evaluated \d+, 1 launched/, first.stdout);
  const ticks = await runCli(['ticks', '--name', 'every_minute'], env);
  assert.match(ticks.stdout, /schedule every_minute \(.*\): evaluated /);
  assert.match(ticks.stdout, /launched source run \d{8}T\d{6}-[0-9a-f]{6}: schedule every_minute due at/);

  const daemon = startCli(['daemon', '--interval', '1s'], env);
  await new Promise<void>((resolve) => {
    daemon.child.stderr!.on('data', (d: Buffer) => {
      if (String(d).includes('a tick every 1 s')) resolve();
    });
  });
  // Let it tick at least once (derived becomes materialized by its eager policy), then stop it.
  await new Promise((r) => setTimeout(r, 2500));
  daemon.child.kill('SIGTERM');
  const done = await daemon.done;
  assert.is(done.code, 0, done.stderr);
  assert.match(done.stderr, /SIGTERM: stopping after the tick in progress/);
  assert.match(done.stderr, /stopped after \d+ ticks/);
  const status = await runCli(['status', '--json'], env);
  const derived = (JSON.parse(status.stdout) as { asset: string; status: string }[]).find((s) => s.asset === 'derived')!;
  assert.is(derived.status, 'FRESH');
  const bad = await runCli(['daemon', '--interval', 'fast'], env);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--interval "fast": write a duration of at least 1s/);
});

test.run();
