// Source revisions: a source asset declaring `refresh: { trailing: n }` re-reads its last n
// days on every run, fresh or not, and says why in the plan. A re-read with the same content
// changes nothing downstream; a changed day gets a new data version, and what consumed it is
// stale "because the source revised" it (and only that).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Instance,
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  describeCause,
  dynamicPartitions,
  materialize,
  multiPartitions,
  prepareRun,
  refreshReason,
  trailingWindowMapping,
} from '../../runtime/index.ts';
import { tempDir } from '../support/tmp.ts';

const now = new Date('2025-05-10T12:00:00Z');
const days = dailyPartitions({ start: '2025-05-01', end: '2025-05-08' });
/** What the outside world says about each day; a test revises a day by changing it. */
const world = new Map<string, number>();

function definitions() {
  const readings = defineAsset({
    key: 'src/readings',
    partitions: days,
    source: true,
    refresh: { trailing: 3 },
    codeVersion: '1',
    materialize: (ctx) => ({ value: world.get(ctx.partition) ?? 1 }),
  });
  const rolling = defineAsset({
    key: 'src/rolling',
    deps: [{ asset: 'src/readings', mapping: trailingWindowMapping(1) }],
    partitions: days,
    codeVersion: '1',
    async materialize(ctx) {
      const values = await ctx.input('readings').jsonByPartition<number>();
      return { value: [...values.values()].reduce((a, b) => a + b, 0) };
    },
  });
  return defineDefinitions({ assets: [readings, rolling] });
}

/** The steps a run materialized, from its events. */
const ran = (events: { type: string; asset?: string; partition?: string }[]) =>
  events
    .filter((e) => e.type === 'step_materialized')
    .map((e) => `${e.asset}[${e.partition}]`)
    .sort();

test('refreshReason: the last n days of a daily or a node x day definition, none otherwise', () => {
  const def = { partitions: days, refresh: { trailing: 3 } };
  assert.is(refreshReason(def, '2025-05-05', now), undefined);
  assert.is(refreshReason(def, '2025-05-06', now), 're-read: the source may revise its last 3 days');
  assert.ok(refreshReason(def, '2025-05-08', now));
  assert.is(refreshReason({ partitions: days, refresh: { trailing: 0 } }, '2025-05-08', now), undefined);
  assert.is(refreshReason({ partitions: days, refresh: undefined }, '2025-05-08', now), undefined);
  const nodeDays = multiPartitions({ node: dynamicPartitions({ name: 'n', initialKeys: ['A', 'B'] }), day: days });
  const multi = { partitions: nodeDays, refresh: { trailing: 2, because: 'PJM revises' } };
  assert.is(refreshReason(multi, 'B|2025-05-07', now), 're-read: PJM revises');
  assert.is(refreshReason(multi, 'B|2025-05-06', now), undefined);
  assert.is(refreshReason(multi, 'C|2025-05-08', now), undefined, 'not a key of the definition');
  assert.throws(() => defineAsset({ key: 'x', refresh: { trailing: 2 }, materialize: () => ({ value: 1 }) }), /not partitioned/);
  assert.throws(() => defineAsset({ key: 'x', partitions: days, refresh: { trailing: -1 }, materialize: () => ({ value: 1 }) }), /whole number/);
});

test('every run re-reads the trailing days; identical data leaves downstream fresh and unrun', async () => {
  world.clear();
  const instance = await Instance.open(definitions(), { dataDir: tempDir('refresh') });
  try {
    const first = await materialize(instance, { now, trigger: 'test' });
    assert.is(first.status, 'succeeded');
    assert.is(first.counts.materialized, 16);

    const plan = (await prepareRun(instance, { now })).plan;
    const reread = plan.steps.filter((s) => s.action === 'run');
    assert.equal(
      reread.map((s) => `${s.asset}[${s.partition}]`),
      ['src/readings[2025-05-06]', 'src/readings[2025-05-07]', 'src/readings[2025-05-08]'],
    );
    assert.is(reread[0]!.reason, 're-read: the source may revise its last 3 days');
    assert.ok(plan.steps.filter((s) => s.asset === 'src/rolling' && s.action === 'conditional').length === 3, 'the days reading them run only if they change');

    const events: { type: string; asset?: string; partition?: string }[] = [];
    const second = await materialize(instance, { now, trigger: 'test', onEvent: (e) => void events.push(e as never) });
    assert.is(second.counts.materialized, 3, 'the live re-check agrees with the plan: the re-reads ran');
    assert.is(second.counts.unchanged, 3);
    assert.equal(ran(events), ['src/readings[2025-05-06]', 'src/readings[2025-05-07]', 'src/readings[2025-05-08]']);
  } finally {
    await instance.close();
  }
});

test('a revised day restales exactly what consumed it, with the cause "source revised"', async () => {
  world.clear();
  const instance = await Instance.open(definitions(), { dataDir: tempDir('refresh-revised') });
  try {
    await materialize(instance, { now, trigger: 'test' });
    world.set('2025-05-07', 5);
    // Re-read the sources alone first, so the status between runs shows the cause.
    await materialize(instance, { now, trigger: 'test', selection: 'src/readings' });
    const stale = (await instance.resolver(now)).status('src/rolling' as never, '2025-05-08');
    assert.is(stale.status, 'STALE');
    assert.match(describeCause(stale.causes[0]!), /^source revised src\/readings\[2025-05-07\]: it now has data version \w+; this one consumed \w+$/);
    const status = (await instance.status('src/rolling', now))[0]!;
    assert.is(status.stale, 2, 'the revised day and the day whose window holds it');

    const events: { type: string; asset?: string; partition?: string }[] = [];
    const r = await materialize(instance, { now, trigger: 'test', onEvent: (e) => void events.push(e as never) });
    assert.equal(ran(events), [
      'src/readings[2025-05-06]',
      'src/readings[2025-05-07]',
      'src/readings[2025-05-08]',
      'src/rolling[2025-05-07]',
      'src/rolling[2025-05-08]',
    ]);
    assert.is(r.counts.unchanged, 3, 'the re-reads found nothing new this time');
    assert.equal((await instance.status('src/rolling', now))[0]!.fresh, 8);
  } finally {
    await instance.close();
  }
});

test.run();
