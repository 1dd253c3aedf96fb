// Two-dimensional (node x day) and dynamic partitions: keys, mappings between 1-D and
// 2-D assets, the --partition syntax, status, and the promise a forecaster relies on:
// adding a pricing node materializes that node's history only, and every other node
// stays fresh and unrun.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AssetGraph,
  Instance,
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  dimensionMapping,
  dynamicPartitions,
  isRuntimeError,
  materialize,
  multiPartitions,
  parsePartitionArgument,
  prepareRun,
  staticPartitions,
  trailingWindowMapping,
  type AssetDefinition,
  type PartitionsDefinition,
} from '../../runtime/index.ts';
import { mapPartitions } from '../../runtime/partition-mapping.ts';
import { main } from '../../runtime/cli/main.ts';
import { tempDir } from '../support/tmp.ts';
import { nodeDayPipeline as pipeline, days } from '../fixtures/runtime/multi-defs.ts';

const now = new Date('2025-06-01T12:00:00Z');

test('multi-partition keys are the product of both dimensions, validated per dimension', () => {
  const nodeDays = multiPartitions({ node: staticPartitions(['51288', '51217']), day: days });
  const keys = nodeDays.keys(now);
  assert.is(keys.length, 10);
  assert.is(keys[0], '51288|2025-05-01');
  assert.is(keys[9], '51217|2025-05-05');
  assert.is(nodeDays.describeKey('51288|2025-05-03'), 'node=51288, day=2025-05-03');
  assert.is(nodeDays.validate('51217|2025-05-02', now), '51217|2025-05-02');
  assert.throws(() => nodeDays.validate('2025-05-02', now), /written node\|day/);
  assert.throws(() => nodeDays.validate('99999|2025-05-02', now), /Unknown partition "99999"/);
  assert.throws(() => nodeDays.validate('51288|2025-06-02', now), /outside this asset's partitions/);
  // A trailing window moves along the day, never across nodes.
  assert.is(nodeDays.shift('51288|2025-05-03', -2, now), '51288|2025-05-01');
  assert.is(nodeDays.shift('51288|2025-05-01', -1, now), undefined);
  assert.throws(() => multiPartitions({ day: days }), /exactly two dimensions/);
  assert.throws(() => multiPartitions({ a: days, b: dailyPartitions({ start: '2025-01-01' }) }), /at most one time dimension/);
});

test('mappings between node x day and day assets, with a trailing window per node', () => {
  const nodeDays = multiPartitions({ node: staticPartitions(['51288', '51217']), day: days });
  const ctx = (upstream: PartitionsDefinition, downstream: PartitionsDefinition) => ({ upstream, downstream, now });
  // features[node|day] reads the same node's prices of the day and the two before.
  assert.equal(mapPartitions(trailingWindowMapping(2), '51217|2025-05-03', ctx(nodeDays, nodeDays)), [
    '51217|2025-05-01',
    '51217|2025-05-02',
    '51217|2025-05-03',
  ]);
  // a node x day asset reads a day asset through its day.
  assert.equal(mapPartitions(dimensionMapping('day'), '51217|2025-05-03', ctx(days, nodeDays)), ['2025-05-03']);
  assert.equal(mapPartitions(dimensionMapping('day', { previous: 1 }), '51217|2025-05-03', ctx(days, nodeDays)), ['2025-05-02', '2025-05-03']);
  // a day asset reads every node of its day.
  assert.equal(mapPartitions(dimensionMapping('day'), '2025-05-03', ctx(nodeDays, days)), ['51288|2025-05-03', '51217|2025-05-03']);
});

test('default mappings: the matching dimension is inferred, a mismatch names both assets', () => {
  const nodeDays = multiPartitions({ node: staticPartitions(['A', 'B']), day: days });
  const raw = defineAsset({ key: 'raw', partitions: days, codeVersion: '1', materialize: () => ({ value: 1 }) });
  const prices = defineAsset({ key: 'prices', deps: ['raw'], partitions: nodeDays, codeVersion: '1', materialize: () => ({ value: 1 }) });
  const daily = defineAsset({ key: 'daily', deps: ['prices'], partitions: days, codeVersion: '1', materialize: () => ({ value: 1 }) });
  const graph = new AssetGraph(defineDefinitions({ assets: [raw, prices, daily] as AssetDefinition<unknown>[] }));
  assert.equal(graph.deps('prices' as never)[0]!.mapping, dimensionMapping('day'));
  assert.equal(graph.deps('daily' as never)[0]!.mapping, dimensionMapping('day'));

  const hours = staticPartitions(['x', 'y']);
  const odd = defineAsset({ key: 'odd', deps: ['prices'], partitions: hours, codeVersion: '1', materialize: () => ({ value: 1 }) });
  try {
    new AssetGraph(defineDefinitions({ assets: [raw, prices, odd] as AssetDefinition<unknown>[] }));
    assert.unreachable('accepted a mapping with no matching dimension');
  } catch (err) {
    assert.ok(isRuntimeError(err, 'invalid-partition-mapping'), String(err));
    assert.match(
      (err as Error).message,
      /odd \(static: x, y\) depends on prices \(node: static: A, B × day: daily from 2025-05-01 to 2025-05-05\); no single dimension matches/,
    );
  }
  const wrong = defineAsset({
    key: 'wrong',
    deps: [{ asset: 'prices', mapping: dimensionMapping('hour') }],
    partitions: days,
    codeVersion: '1',
    materialize: () => ({ value: 1 }),
  });
  assert.throws(
    () => new AssetGraph(defineDefinitions({ assets: [raw, prices, wrong] as AssetDefinition<unknown>[] })),
    /names no dimension of prices \(its dimensions: node, day\)/,
  );
});

test('--partition: values per dimension, bare days on a node x day asset, and day= on a day asset', () => {
  const nodeDays = multiPartitions({ node: staticPartitions(['51288', '51217', '4669664']), day: days });
  assert.equal(parsePartitionArgument('node=51288,51217,day=2025-05-01...2025-05-02', nodeDays, now), [
    '51288|2025-05-01',
    '51288|2025-05-02',
    '51217|2025-05-01',
    '51217|2025-05-02',
  ]);
  // A dimension left out means all of its keys.
  assert.is(parsePartitionArgument('node=4669664', nodeDays, now).length, 5);
  // A bare value belongs to the dimension it is a key of.
  assert.equal(parsePartitionArgument('2025-05-05', nodeDays, now), ['51288|2025-05-05', '51217|2025-05-05', '4669664|2025-05-05']);
  assert.equal(parsePartitionArgument('51217|2025-05-04', nodeDays, now), ['51217|2025-05-04']);
  // The same argument selects the same days of a day-partitioned asset.
  assert.equal(parsePartitionArgument('node=51288,day=2025-05-02...2025-05-03', days, now), ['2025-05-02', '2025-05-03']);
  // ... and a day asset that no named dimension matches is not narrowed.
  assert.is(parsePartitionArgument('node=51288', days, now).length, 5);
  for (const [arg, pattern] of [
    ['hub=51288', /names dimension hub, which .* does not have \(its dimensions: node, day\)/],
    ['node=99', /Unknown partition "99"/],
    ['nope', /"nope" is not a key of any dimension/],
    ['day=2025-05-01,day=2025-05-02', /names dimension day twice/],
  ] as const) {
    try {
      parsePartitionArgument(arg, nodeDays, now);
      assert.unreachable(`accepted ${arg}`);
    } catch (err) {
      assert.ok(isRuntimeError(err, 'invalid-partition'), String(err));
      assert.match((err as Error).message, pattern);
    }
  }
});

test('a node x day pipeline: windows stay within a node, status counts every partition', async () => {
  const counter = new Map<string, number>();
  const instance = await Instance.open(pipeline(staticPartitions(['A', 'B']), counter), { dataDir: tempDir('multi') });
  try {
    const run = await materialize(instance, { trigger: 'test', now });
    assert.is(run.status, 'succeeded');
    assert.equal(Object.fromEntries(counter), { raw: 5, prices: 10, features: 10, model: 1 });
    const consumed = await instance.store.current('features' as never, 'B|2025-05-03');
    assert.ok(consumed);
    assert.equal(
      consumed!.inputs.map((i) => i.partition),
      ['B|2025-05-01', 'B|2025-05-02', 'B|2025-05-03'],
    );
    const [prices] = await instance.status('prices', now);
    assert.is(prices!.total, 10);
    assert.is(prices!.fresh, 10);
  } finally {
    await instance.close();
  }
});

test('adding a node (static, by configuration) runs that node only; the dry run says so', async () => {
  const dataDir = tempDir('multi-add');
  const counter = new Map<string, number>();
  const first = await Instance.open(pipeline(staticPartitions(['A', 'B']), counter), { dataDir });
  await materialize(first, { trigger: 'test', now });
  await first.close();

  counter.clear();
  const second = await Instance.open(pipeline(staticPartitions(['A', 'B', 'C']), counter), { dataDir });
  try {
    const plan = (await prepareRun(second, { now })).plan;
    const running = plan.steps.filter((s) => s.action === 'run');
    assert.equal([...new Set(running.map((s) => s.asset))], ['prices', 'features']);
    assert.ok(
      running.every((s) => s.partition.startsWith('C|')),
      'only node C partitions run',
    );
    const freshNodeSteps = plan.steps.filter((s) => s.asset === 'prices' && !s.partition.startsWith('C|'));
    assert.ok(freshNodeSteps.every((s) => s.action === 'skip' && s.reason === 'fresh'));
    const model = plan.steps.find((s) => s.asset === 'model')!;
    assert.is(model.action, 'conditional');
    assert.match(model.reason, /runs only if features produces new data/);

    const run = await materialize(second, { trigger: 'test', now });
    assert.is(run.status, 'succeeded');
    assert.equal(Object.fromEntries(counter), { prices: 5, features: 5, model: 1 });
  } finally {
    await second.close();
  }
});

test('dynamic node keys: `materialize partitions add` makes them exist, and the next run materializes only them', async () => {
  const dataDir = tempDir('multi-dyn');
  const counter = new Map<string, number>();
  const defs = pipeline(dynamicPartitions({ name: 'nodes', initialKeys: ['A'] }), counter);
  const instance = await Instance.open(defs, { dataDir });
  await materialize(instance, { trigger: 'test', now });
  assert.equal(Object.fromEntries(counter), { raw: 5, prices: 5, features: 5, model: 1 });
  await instance.close();

  // Through the CLI, as a user would.
  const out = captured();
  const err = captured();
  const defsModule = new URL('../fixtures/runtime/multi-defs.ts', import.meta.url).pathname;
  assert.is(
    await main(['partitions', 'add', 'nodes', 'B', '--definitions', defsModule, '--data-dir', dataDir], { out: out.stream, err: err.stream }),
    0,
    err.text(),
  );
  assert.match(out.text(), /Added 1 key to nodes: B\./);
  assert.is(await main(['partitions', 'add', 'nodes', 'B', '--definitions', defsModule, '--data-dir', dataDir], { out: out.stream, err: err.stream }), 0);
  assert.match(out.text(), /Already there: B\./);
  assert.is(await main(['partitions', 'add', 'hubs', 'B', '--definitions', defsModule, '--data-dir', dataDir], { out: out.stream, err: err.stream }), 2);
  assert.match(err.text(), /No dynamic partitions definition is named "hubs" \(defined: nodes\)/);
  assert.is(await main(['partitions', 'add', 'nodes', 'b/../x', '--definitions', defsModule, '--data-dir', dataDir], { out: out.stream, err: err.stream }), 2);
  assert.match(err.text(), /Cannot add "b\/..\/x": partition key/);
  assert.is(await main(['partitions', 'list', 'nodes', '--definitions', defsModule, '--data-dir', dataDir], { out: out.stream, err: err.stream }), 0);
  assert.match(out.text(), /nodes: 2 keys: A, B/);

  counter.clear();
  const again = await Instance.open(defs, { dataDir });
  try {
    const run = await materialize(again, { trigger: 'test', now });
    assert.is(run.status, 'succeeded');
    assert.equal(Object.fromEntries(counter), { prices: 5, features: 5, model: 1 });
    // -p with a dimension selects that node's partitions only.
    const plan = (await prepareRun(again, { selection: 'prices', partitions: 'node=B,day=2025-05-01...2025-05-02', force: true, now })).plan;
    assert.equal(
      plan.steps.map((s) => s.partition),
      ['B|2025-05-01', 'B|2025-05-02'],
    );
  } finally {
    await again.close();
  }
});

function captured() {
  let text = '';
  const stream = {
    write: (s: string) => {
      text += s;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

test.run();
