// Batch assets (`batch: { maxPartitions, materialize }`, Dagster's backfill policies): the
// executor groups a node's days into steps of at most maxPartitions, calls the asset's code
// once per group, and records every partition as its own materialization with its own
// inputs, checks and data version. A member's error fails that partition alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Instance,
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  duckdbConnect,
  eachPartition,
  materialize,
  multiPartitions,
  staticPartitions,
  trailingWindowMapping,
  type AssetDefinition,
  type BatchOutput,
  type PartitionKey,
  type RunEvent,
} from '../../runtime/index.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { groupIntoBatches } from '../../runtime/batches.ts';
import { AssetGraph } from '../../runtime/graph.ts';
import { tempDir } from '../support/tmp.ts';

const days = dailyPartitions({ start: '2025-05-01', end: '2025-05-10' });
const nodeDays = multiPartitions({ node: staticPartitions(['A', 'B']), day: days });
const calls: { partitions: PartitionKey[]; inputs: number }[] = [];
const state = { failDay: '', blockDay: '', value: 1 };

function defs(maxPartitions = 4) {
  const prices = defineAsset({
    key: 'prices',
    partitions: nodeDays,
    codeVersion: '1',
    materialize: (ctx) => ({ value: { key: ctx.partition, v: state.value } }),
  });
  const features = defineAsset({
    key: 'features',
    deps: [{ asset: 'prices', mapping: trailingWindowMapping(1) }],
    partitions: nodeDays,
    codeVersion: '1',
    checks: [
      { name: 'not_blocked', check: async (ctx) => ({ passed: !ctx.partition.endsWith(state.blockDay || 'none'), message: `blocked ${ctx.partition}` }) },
    ],
    batch: {
      maxPartitions,
      async materialize(ctx) {
        calls.push({ partitions: ctx.members.map((m) => m.partition), inputs: ctx.input('prices').partitions.length });
        const out = new Map<PartitionKey, BatchOutput>();
        for (const m of ctx.members) {
          if (state.failDay && m.partition.endsWith(state.failDay)) {
            out.set(m.partition, { error: new Error(`no price for ${m.partition}`) });
            continue;
          }
          const own = await m.input('prices').jsonByPartition<{ v: number }>();
          out.set(m.partition, { value: { partition: m.partition, sum: [...own.values()].reduce((a, b) => a + b.v, 0), reads: [...own.keys()] } });
        }
        return out;
      },
    },
  });
  const model = defineAsset({ key: 'model', deps: ['features'], codeVersion: '1', materialize: (ctx) => ({ value: ctx.input('features').partitions.length }) });
  return defineDefinitions({ assets: [prices, features, model] as AssetDefinition<unknown>[] });
}
const now = new Date('2025-05-11T12:00:00Z');

test('grouping: one node per group, in plan order, at most maxPartitions each', () => {
  const graph = new AssetGraph(defs(4));
  const keys = nodeDays.keys(now).map((partition) => ({ partition }));
  const groups = groupIntoBatches(graph, 'features' as never, keys);
  assert.equal(
    groups.map((g) => g.length),
    [4, 4, 2, 4, 4, 2],
  );
  for (const g of groups) assert.is(new Set(g.map((k) => k.partition.split('|')[0])).size, 1, 'one node per group');
  assert.equal(
    groups[0]!.map((k) => k.partition),
    ['A|2025-05-01', 'A|2025-05-02', 'A|2025-05-03', 'A|2025-05-04'],
  );
  assert.is(groupIntoBatches(graph, 'prices' as never, keys).length, 20, 'a single-partition asset runs one partition per step');
  const batch = { maxPartitions: 2, materialize: async () => new Map() };
  assert.throws(() => defineAsset({ key: 'x', partitions: days, batch, materialize: () => ({ value: 1 }) } as never), /both materialize\(ctx\) and batch/);
  assert.throws(() => defineAsset({ key: 'x', partitions: days, batch: { ...batch, maxPartitions: 0 } }), /maxPartitions must be a whole number >= 1, got 0/);
  assert.throws(() => defineAsset({ key: 'x', batch }), /not partitioned/);
});

test('a backfill calls the batch function once per group and records each partition with its own inputs', async () => {
  calls.length = 0;
  Object.assign(state, { failDay: '', blockDay: '', value: 1 });
  const i = await Instance.open(defs(4), { dataDir: tempDir('batch') });
  const r = await materialize(i, { trigger: 'test', now });
  assert.is(r.status, 'succeeded', JSON.stringify(r.failures));
  assert.is(calls.length, 6, 'two nodes x ceil(10 / 4) calls');
  assert.is(r.counts.materialized, 20 + 20 + 1);
  const c = (await i.store.current('features' as never, 'B|2025-05-05'))!;
  assert.equal(c.inputs.map((x) => x.partition).sort(), ['B|2025-05-04', 'B|2025-05-05'], 'its own inputs, not the batch union');
  assert.is(calls.find((x) => x.partitions[0] === 'A|2025-05-01')!.inputs, 4, 'the union over A 05-01..05-04 (the first day has no day before it)');
  // A day on its own (the partition argument) runs as a batch of one, and changes nothing.
  calls.length = 0;
  const again = await materialize(i, { trigger: 'test', now, selection: 'features', partitions: 'A|2025-05-07', force: true });
  assert.is(again.status, 'succeeded');
  assert.equal(
    calls.map((x) => x.partitions),
    [['A|2025-05-07']],
  );
  assert.is(again.counts.unchanged, 1, 'the same bytes as in its batch');
  await i.close();
});

test('a member error fails its partition alone; a member blocked by a check is blocked alone; downstream skips with the reason', async () => {
  calls.length = 0;
  Object.assign(state, { failDay: '2025-05-03', blockDay: '2025-05-06', value: 1 });
  const i = await Instance.open(defs(10), { dataDir: tempDir('batch-fail') });
  const events: RunEvent[] = [];
  const r = await materialize(i, { trigger: 'test', now, onEvent: (e) => events.push(e) });
  assert.is(r.status, 'failed');
  assert.equal(r.failures.map((f) => f.partition).sort(), ['A|2025-05-03', 'A|2025-05-06', 'B|2025-05-03', 'B|2025-05-06']);
  assert.match(r.failures.find((f) => f.partition === 'A|2025-05-03')!.error, /no price for A\|2025-05-03/);
  assert.is(await i.store.current('features' as never, 'A|2025-05-03'), undefined, 'nothing published for the failed member');
  assert.ok(await i.store.current('features' as never, 'A|2025-05-04'), 'the other members are published');
  assert.is(r.counts.materialized, 20 + 16, 'every price and 16 of the 20 feature partitions; the model waits');
  const skipped = events.find((e) => e.type === 'step_skipped' && e.asset === 'model');
  assert.ok(skipped && skipped.type === 'step_skipped' && /upstream features\[.*\] (failed|was blocked)/.test(skipped.reason), JSON.stringify(skipped));
  // Fixed, the next run materializes only the four that failed, in one call per node.
  calls.length = 0;
  Object.assign(state, { failDay: '', blockDay: '' });
  const fixed = await materialize(i, { trigger: 'test', now });
  assert.is(fixed.status, 'succeeded');
  assert.equal(
    calls.map((x) => x.partitions.length),
    [2, 2],
  );
  await i.close();
});

test('fresh members are skipped at the live re-check; an upstream change re-runs only the members that read it', async () => {
  calls.length = 0;
  Object.assign(state, { failDay: '', blockDay: '', value: 1 });
  const i = await Instance.open(defs(10), { dataDir: tempDir('batch-fresh') });
  assert.is((await materialize(i, { trigger: 'test', now })).status, 'succeeded');
  calls.length = 0;
  state.value = 2;
  const r = await materialize(i, { trigger: 'test', now, selection: 'prices,features', partitions: 'A|2025-05-04', force: false });
  assert.is(r.status, 'succeeded');
  // prices A|05-04 is fresh (nothing changed) so nothing downstream runs.
  assert.is(calls.length, 0);
  const forced = await materialize(i, { trigger: 'test', now, selection: 'prices', partitions: 'A|2025-05-04', force: true });
  assert.is(forced.counts.materialized, 1);
  calls.length = 0;
  const follow = await materialize(i, { trigger: 'test', now, selection: 'features' });
  assert.is(follow.status, 'succeeded');
  assert.equal(
    calls.map((x) => x.partitions),
    [['A|2025-05-04', 'A|2025-05-05']],
    'the two days whose window holds the revised day',
  );
  await i.close();
});

test('eachPartition: the single-partition code per member in one step, the same files and data versions as single steps, names reused safely', async () => {
  let steps = 0;
  // Reuses one temp table name and one file name per call, as the PJM processed assets do: safe
  // only if each member's output is written before the next member's call.
  const code = async (ctx: { partition: string; tempDir: string; duckdb(): Promise<import('@duckdb/node-api').DuckDBConnection> }) => {
    if (ctx.partition === '2025-05-03') throw new Error('no rows for 2025-05-03');
    const conn = await ctx.duckdb();
    await writeFile(join(ctx.tempDir, 'note.txt'), ctx.partition);
    await conn.run(`CREATE OR REPLACE TEMP TABLE day_rows AS SELECT DATE '${ctx.partition}' AS day, range AS hour, range * 1.5 AS price FROM range(24)`);
    return { sql: 'SELECT * FROM day_rows ORDER BY hour', metadata: { day: ctx.partition } };
  };
  const single = defineAsset({ key: 'rows', partitions: days, io: 'table', codeVersion: '1', materialize: (ctx) => code(ctx) });
  const grouped = defineAsset({
    key: 'rows',
    partitions: days,
    io: 'table',
    codeVersion: '1',
    batch: eachPartition(4, (ctx) => {
      if (ctx.partition.endsWith('01') || ctx.partition.endsWith('05') || ctx.partition.endsWith('09')) steps++;
      return code(ctx);
    }),
  });
  const versions = async (def: AssetDefinition<unknown>, name: string) => {
    const i = await Instance.open(defineDefinitions({ assets: [def] }), { dataDir: tempDir(name) });
    try {
      const r = await materialize(i, { trigger: 'test', now });
      assert.is(r.counts.failed, 1, 'the member that threw fails alone');
      assert.is(r.counts.materialized, 9);
      const out = new Map<string, { dv: string; rows: unknown[] }>();
      const conn = await duckdbConnect();
      for (const day of days.keys(now)) {
        const c = await i.store.current('rows' as never, day);
        if (!c) continue;
        const path = await i.storage.localPath(c.location);
        const rows = (await conn.runAndReadAll(`SELECT day::VARCHAR AS day, count(*) AS n FROM read_parquet('${path}') GROUP BY day`)).getRowObjectsJson();
        out.set(day, { dv: c.dataVersion, rows });
        assert.is((await i.store.materialization(c.id))!.metadata['day'], day, 'its own metadata');
      }
      conn.closeSync();
      return out;
    } finally {
      await i.close();
    }
  };
  const a = await versions(single as AssetDefinition<unknown>, 'each-single');
  const b = await versions(grouped as AssetDefinition<unknown>, 'each-batch');
  assert.is(steps, 3, '10 days in steps of at most 4');
  assert.equal([...b.keys()], [...a.keys()]);
  assert.not.ok(b.has('2025-05-03'), 'nothing published for the member that threw');
  for (const [day, v] of a) {
    assert.equal(b.get(day)!.rows, [{ day, n: '24' }], `${day} holds its own rows, not another member's`);
    assert.is(b.get(day)!.dv, v.dv, `${day}: the same bytes as a single step's`);
  }
});

test.run();
