// Staleness as a user meets it: each cause, and the promise that an upstream
// recomputed to identical data leaves its downstream fresh and not recomputed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  Instance,
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  describeCause,
  materialize,
  prepareRun,
  type AssetDefinition,
} from '../../runtime/index.ts';
import { tempDir } from '../support/tmp.ts';

/** Mutable inputs the assets read, so a test can change "the world" between runs. */
const world = { source: 1, calls: {} as Record<string, number> };
const count = (k: string) => (world.calls[k] = (world.calls[k] ?? 0) + 1);

function defs(options: { processedVersion?: string; featuresDeps?: string[] } = {}) {
  const raw = defineAsset({
    key: 'raw',
    codeVersion: '1',
    materialize: () => {
      count('raw');
      return { value: { source: world.source } };
    },
  });
  const processed = defineAsset({
    key: 'processed',
    deps: ['raw'],
    codeVersion: options.processedVersion ?? '1',
    async materialize(ctx) {
      count('processed');
      const { source } = await ctx.input('raw').json<{ source: number }>();
      // Only the sign matters downstream, so many sources give identical data.
      return { value: { positive: source > 0 } };
    },
  });
  const extra = defineAsset({
    key: 'extra',
    codeVersion: '1',
    materialize: () => {
      count('extra');
      return { value: 42 };
    },
  });
  const features = defineAsset({
    key: 'features',
    deps: options.featuresDeps ?? ['processed'],
    codeVersion: '1',
    materialize: () => {
      count('features');
      return { value: 'f' };
    },
  });
  return defineDefinitions({ assets: [raw, processed, extra, features] as AssetDefinition<unknown>[] });
}

async function open(dir: string, options?: Parameters<typeof defs>[0]) {
  return await Instance.open(defs(options), { dataDir: dir });
}

const causesOf = async (instance: Instance<unknown>, asset: string) => (await instance.resolver()).status(asset as never, '').causes.map(describeCause);

test('missing assets run; then everything is fresh and a second run does nothing', async () => {
  const dir = tempDir('stale');
  world.calls = {};
  const i = await open(dir);
  const r1 = await materialize(i, { selection: '+features', trigger: 'test' });
  assert.is(r1.status, 'succeeded');
  assert.is(r1.counts.materialized, 3);
  assert.equal(
    (await i.status('+features')).map((s) => s.status),
    ['FRESH', 'FRESH', 'FRESH'],
  );
  const r2 = await materialize(i, { selection: '+features', trigger: 'test' });
  assert.is(r2.counts.materialized, 0);
  assert.equal(world.calls, { raw: 1, processed: 1, features: 1 });
  await i.close();
});

test('code version change: stale with a cause naming both versions; downstream says upstream is stale', async () => {
  const dir = tempDir('stale');
  await materialize(await open(dir), { selection: '+features', trigger: 'test' });
  const i = await open(dir, { processedVersion: '2' });
  assert.equal(await causesOf(i, 'processed'), ['code version changed from 1 to 2']);
  assert.equal(await causesOf(i, 'features'), ['upstream processed is stale']);
  const plan = (await prepareRun(i, { selection: '+features' })).plan;
  assert.equal(
    plan.steps.map((s) => `${s.asset}:${s.action}`),
    ['raw:skip', 'processed:run', 'features:conditional'],
  );
  await i.close();
});

test('identical upstream data keeps downstream fresh and it is not recomputed', async () => {
  const dir = tempDir('stale');
  world.source = 1;
  await materialize(await open(dir), { selection: '+features', trigger: 'test' });
  world.calls = {};
  const i = await open(dir, { processedVersion: '2' });
  const r = await materialize(i, { selection: '+features', trigger: 'test' });
  assert.is(r.status, 'succeeded');
  assert.is(r.counts.unchanged, 1, 'processed recomputed to identical data');
  assert.equal(world.calls, { processed: 1 }, 'features did not run');
  assert.equal(
    (await i.status('+features')).map((s) => s.status),
    ['FRESH', 'FRESH', 'FRESH'],
  );
  await i.close();
});

test('upstream data change: stale, with the versions consumed and current', async () => {
  const dir = tempDir('stale');
  world.source = 1;
  const i = await open(dir);
  await materialize(i, { selection: '+features', trigger: 'test' });
  const before = (await i.store.current('processed' as never, ''))!.dataVersion;
  world.source = -5;
  await materialize(i, { selection: 'raw,processed', force: true, trigger: 'test' });
  const after = (await i.store.current('processed' as never, ''))!.dataVersion;
  assert.not.equal(before, after);
  const [cause] = await causesOf(i, 'features');
  assert.is(cause, `upstream processed now has data version ${after.slice(0, 8)}; this one consumed ${before.slice(0, 8)}`);
  world.calls = {};
  await materialize(i, { selection: 'features', trigger: 'test' });
  assert.equal(world.calls, { features: 1 });
  assert.is((await i.status('features'))[0]!.status, 'FRESH');
  await i.close();
});

test('dependencies changed: a new dependency makes the asset stale', async () => {
  const dir = tempDir('stale');
  await materialize(await open(dir), { trigger: 'test' });
  const i = await open(dir, { featuresDeps: ['processed', 'extra'] });
  assert.equal(await causesOf(i, 'features'), ['dependencies changed: added extra']);
  await i.close();
});

test('partitioned: a new upstream partition makes an all-partitions consumer stale', async () => {
  const dir = tempDir('stale');
  let end = '2025-05-03';
  const build = async () => {
    const days = dailyPartitions({ start: '2025-05-01', end });
    const daily = defineAsset({ key: 'daily', codeVersion: '1', partitions: days, materialize: (ctx) => ({ value: ctx.partition }) });
    const all = defineAsset({
      key: 'summary',
      deps: ['daily'],
      codeVersion: '1',
      async materialize(ctx) {
        return { value: [...(await ctx.input('daily').jsonByPartition()).values()] as string[] };
      },
    });
    return await Instance.open(defineDefinitions({ assets: [daily, all] as AssetDefinition<unknown>[] }), { dataDir: dir });
  };
  let i = await build();
  await materialize(i, { trigger: 'test' });
  assert.equal(await readJson(i, 'summary'), ['2025-05-01', '2025-05-02', '2025-05-03']);
  await i.close();
  end = '2025-05-04';
  i = await build();
  const summary = await i.status();
  assert.equal(
    summary.map((s) => [s.asset, s.status, s.fresh, s.missing]),
    [
      ['daily', 'MISSING', 3, 1],
      ['summary', 'STALE', 0, 0],
    ],
  );
  assert.match(summary[1]!.causes[0]!.text, /upstream daily\[2025-05-04\] is missing/);
  await materialize(i, { selection: 'daily', trigger: 'test' });
  assert.match((await i.status('summary'))[0]!.causes[0]!.text, /1 new partition of daily \(2025-05-04\) not yet consumed/);
  await materialize(i, { trigger: 'test' });
  assert.equal(await readJson(i, 'summary'), ['2025-05-01', '2025-05-02', '2025-05-03', '2025-05-04']);
  await i.close();
});

async function readJson(i: Instance<unknown>, asset: string): Promise<unknown> {
  const { readFile } = await import('node:fs/promises');
  const cur = (await i.store.current(asset as never, ''))!;
  return JSON.parse(await readFile(await i.storage.localPath(cur.location), 'utf8'));
}

test.run();
