// The planner on its own, as the style guide asks: a graph and an in-memory snapshot of
// current versions in, the plan out — no store, no disk, no clock (a fixed `now`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AssetGraph,
  StalenessResolver,
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  describePlan,
  planRun,
  trailingWindowMapping,
  type AssetDefinition,
  type AssetKey,
  type CodeVersion,
  type CurrentRecord,
  type DataVersion,
  type InputRecord,
} from '../../runtime/index.ts';
import { snapshotView } from '../../runtime/staleness.ts';
import type { CurrentSnapshot } from '../../runtime/store/records.ts';

const now = new Date('2025-05-10T12:00:00Z');
const days = dailyPartitions({ start: '2025-05-01', end: '2025-05-03' });
const noop = () => ({ value: 0 });

/** raw[day] -> clean[day] -> rolling[day] (this day and the one before) -> report (all days). */
function graph(cleanVersion = '1'): AssetGraph<unknown> {
  return new AssetGraph(
    defineDefinitions({
      assets: [
        defineAsset({ key: 'raw', partitions: days, codeVersion: '1', materialize: noop }),
        defineAsset({ key: 'clean', deps: ['raw'], partitions: days, codeVersion: cleanVersion, materialize: noop }),
        defineAsset({ key: 'rolling', deps: [{ asset: 'clean', mapping: trailingWindowMapping(1) }], partitions: days, codeVersion: '1', materialize: noop }),
        defineAsset({ key: 'report', deps: ['rolling'], codeVersion: '1', materialize: noop }),
      ] as AssetDefinition<unknown>[],
    }),
  );
}

/** A snapshot built by hand: each entry is [asset, partition, data version, code version, inputs]. */
function snapshot(entries: [string, string, string, string, [string, string][]][]): CurrentSnapshot {
  const out: CurrentSnapshot = new Map();
  const ids = new Map<string, { id: number; dv: DataVersion }>();
  let id = 0;
  for (const [asset, partition, dv, cv, inputs] of entries) {
    id++;
    const record: CurrentRecord = {
      id,
      codeVersion: cv as CodeVersion,
      dataVersion: dv as DataVersion,
      location: `${asset}/${partition || '_'}/${dv}.json`,
      runId: 'r1',
      endedAt: id,
      inputs: inputs.map(([a, p]): InputRecord => {
        const up = ids.get(`${a}|${p}`)!;
        return { asset: a as AssetKey, partition: p, materializationId: up.id, dataVersion: up.dv };
      }),
    };
    ids.set(`${asset}|${partition}`, { id, dv: dv as DataVersion });
    let byPartition = out.get(asset as AssetKey);
    if (!byPartition) out.set(asset as AssetKey, (byPartition = new Map()));
    byPartition.set(partition, record);
  }
  return out;
}

/** Everything materialized once, consistently. */
function fullyFresh(): [string, string, string, string, [string, string][]][] {
  const e: [string, string, string, string, [string, string][]][] = [];
  const d = ['2025-05-01', '2025-05-02', '2025-05-03'];
  for (const day of d) e.push(['raw', day, `raw-${day}`, '1', []]);
  for (const day of d) e.push(['clean', day, `clean-${day}`, '1', [['raw', day]]]);
  for (const [i, day] of d.entries())
    e.push(['rolling', day, `rolling-${day}`, '1', (i === 0 ? [day] : [d[i - 1]!, day]).map((p) => ['clean', p] as [string, string])]);
  e.push(['report', '', 'report', '1', d.map((p) => ['rolling', p] as [string, string])]);
  return e;
}

function plan(g: AssetGraph<unknown>, snap: CurrentSnapshot, options: { force?: boolean; assets?: string[] } = {}) {
  const resolver = new StalenessResolver(g, snapshotView(snap), now);
  return planRun({ graph: g, resolver, assets: (options.assets ?? g.keys()) as AssetKey[], force: options.force ?? false, now });
}

test('an empty store: every partition runs because it is missing', () => {
  const p = plan(graph(), new Map());
  assert.equal(p.counts, { run: 10, conditional: 0, skip: 0 });
  assert.ok(p.steps.every((s) => s.reason === 'missing: never materialized'));
  // Upstream before downstream.
  assert.equal([...new Set(p.steps.map((s) => s.asset))], ['raw', 'clean', 'rolling', 'report']);
});

test('a fully fresh snapshot: nothing runs, and each step says fresh', () => {
  const p = plan(graph(), snapshot(fullyFresh()));
  assert.equal(p.counts, { run: 0, conditional: 0, skip: 10 });
  assert.equal(describePlan(p), [
    'skip        raw[3 partitions 2025-05-01…2025-05-03]: fresh',
    'skip        clean[3 partitions 2025-05-01…2025-05-03]: fresh',
    'skip        rolling[3 partitions 2025-05-01…2025-05-03]: fresh',
    'skip        report: fresh',
  ]);
});

test('a code change runs that asset; what reads it runs only if its data changes', () => {
  const p = plan(graph('2'), snapshot(fullyFresh()));
  const by = (asset: string) => p.steps.filter((s) => s.asset === asset);
  assert.ok(by('raw').every((s) => s.action === 'skip'));
  assert.ok(by('clean').every((s) => s.action === 'run' && s.reason === 'stale: code version changed from 1 to 2'));
  assert.ok(by('rolling').every((s) => s.action === 'conditional'));
  assert.match(by('rolling')[1]!.reason, /runs only if clean\[2025-05-01\], clean\[2025-05-02\] produce new data/);
  assert.equal(
    by('report').map((s) => s.action),
    ['conditional'],
  );
});

test('one upstream day with new data: only the windows that read it are stale', () => {
  const snap = snapshot(fullyFresh());
  // clean[05-02] was re-materialized with other data since rolling consumed it.
  const clean = snap.get('clean' as AssetKey)!;
  clean.set('2025-05-02', { ...clean.get('2025-05-02')!, id: 99, dataVersion: 'ffff0002' as DataVersion });
  const p = plan(graph(), snap, { assets: ['rolling'] });
  assert.equal(
    p.steps.map((s) => [s.partition, s.action]),
    [
      ['2025-05-01', 'skip'],
      ['2025-05-02', 'run'],
      ['2025-05-03', 'run'],
    ],
  );
  assert.match(p.steps[1]!.reason, /upstream clean\[2025-05-02\] now has data version ffff0002; this one consumed clean-20/);
});

test('a stale upstream outside the selection is skipped, saying so; --force runs everything selected', () => {
  const p = plan(graph('2'), snapshot(fullyFresh()), { assets: ['rolling'] });
  assert.ok(p.steps.every((s) => s.action === 'skip'));
  assert.match(p.steps[0]!.reason, /stale \(upstream clean\[2025-05-01\] is stale\) but that upstream is not in this selection/);
  const forced = plan(graph(), snapshot(fullyFresh()), { force: true, assets: ['rolling'] });
  assert.ok(forced.steps.every((s) => s.action === 'run' && s.reason === 'forced'));
});

test('each step that runs names the planned steps it reads, so the executor need not walk the graph again', () => {
  const p = plan(graph('2'), snapshot(fullyFresh()));
  const step = (asset: string, partition: string) => p.steps.find((s) => s.asset === asset && s.partition === partition)!;
  const refs = (asset: string, partition: string) => step(asset, partition).upstream.map((u) => `${u.asset}[${u.partition}]`);
  // raw is fresh (skipped): clean reads no planned step.
  assert.equal(refs('clean', '2025-05-02'), []);
  // rolling[05-02] reads this day and the one before.
  assert.equal(refs('rolling', '2025-05-02'), ['clean[2025-05-01]', 'clean[2025-05-02]']);
  assert.equal(refs('rolling', '2025-05-01'), ['clean[2025-05-01]']);
  // report reads every planned partition of rolling.
  assert.equal(refs('report', ''), ['rolling[2025-05-01]', 'rolling[2025-05-02]', 'rolling[2025-05-03]']);
  assert.equal(step('raw', '2025-05-01').upstream, [], 'a skipped step waits for nothing');
});

test.run();
