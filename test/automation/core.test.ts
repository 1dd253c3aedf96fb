// The pure automation core, as the planner is tested: definitions and a hand-built snapshot
// in, run requests and verdicts out — no store, no disk, a fixed clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AssetGraph,
  StalenessResolver,
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  type AssetDefinition,
  type AssetKey,
  type CodeVersion,
  type CurrentRecord,
  type DataVersion,
} from '../../runtime/index.ts';
import { evaluateFreshness } from '../../runtime/automation/freshness.ts';
import { evaluatePolicies } from '../../runtime/automation/policies.ts';
import { evaluateSchedule } from '../../runtime/automation/schedules.ts';
import { runSensor, defineSensor } from '../../runtime/automation/sensors.ts';
import { snapshotView } from '../../runtime/staleness.ts';
import type { CurrentSnapshot } from '../../runtime/store/records.ts';

const noop = () => ({ value: 0 });
const HOUR = 3_600_000;

test('a 14:30 America/New_York schedule is due once per day across the autumn DST change, and a restart with the cursor does not repeat it', () => {
  const s = { name: 'daily', cron: '30 14 * * *', timezone: 'America/New_York', selection: '*', partitionDay: 1 };
  // Ticks every 10 minutes from Oct 31 to Nov 2 2026 (clocks fall back on Nov 1).
  let cursor: string | undefined;
  const fired: string[] = [];
  for (let t = Date.parse('2026-10-31T12:00:00Z'); t <= Date.parse('2026-11-02T23:00:00Z'); t += 10 * 60_000) {
    const e = evaluateSchedule(s, cursor, new Date(t), HOUR);
    fired.push(...e.requests.map((r) => `${r.dedupeKey} ${r.partitions?.join(',')}`));
    cursor = e.cursor;
    // A restart re-evaluates the same tick with the stored cursor: nothing new.
    assert.equal(evaluateSchedule(s, cursor, new Date(t), HOUR).requests, []);
  }
  assert.equal(fired, [
    'schedule:daily:2026-10-31T18:30:00.000Z 2026-11-01', // EDT: 14:30 = 18:30 UTC
    'schedule:daily:2026-11-01T19:30:00.000Z 2026-11-02', // EST from Nov 1: 14:30 = 19:30 UTC
    'schedule:daily:2026-11-02T19:30:00.000Z 2026-11-03',
  ]);
});

test('a schedule due during the spring-forward gap runs once, at the first valid minute', () => {
  const s = { name: 'night', cron: '30 2 * * *', timezone: 'America/New_York', selection: 'a' };
  const e = evaluateSchedule(s, '2026-03-08T06:00:00.000Z', new Date('2026-03-08T08:00:00Z'), 6 * HOUR);
  assert.equal(e.evaluated, ['2026-03-08T07:00:00.000Z']); // 03:00 EDT: 02:30 did not exist that day
});

test('due times older than the catch-up window are skipped with a reason, not launched', () => {
  const s = { name: 'daily', cron: '30 14 * * *', timezone: 'America/New_York', selection: '*' };
  const e = evaluateSchedule(s, '2026-11-01T00:00:00.000Z', new Date('2026-11-04T12:00:00Z'), HOUR);
  assert.equal(e.requests, []);
  assert.is(e.skipped.length, 3);
  assert.match(e.skipped[0]!.reason, /missed the run due at 2026-11-01 14:30 EST: it is more than 60 min before this tick/);
});

test('a bad cron line or zone fails when the definitions load, naming the schedule', () => {
  assert.throws(
    () => defineDefinitions({ assets: [], schedules: [{ name: 'x', cron: '30 14 * *', timezone: 'America/New_York', selection: '*' }] }),
    /Schedule x: cron "30 14 \* \*" in time zone "America\/New_York" is invalid/,
  );
  assert.throws(
    () => defineDefinitions({ assets: [], schedules: [{ name: 'x', cron: '30 14 * * *', timezone: 'Mars/Olympus', selection: '*' }] }),
    /Schedule x: .*Mars\/Olympus/,
  );
});

// ---- policies ----

const days = dailyPartitions({ start: '2026-11-01', end: '2026-11-02' });
const now = new Date('2026-11-05T12:00:00Z');

function graph(): AssetGraph<unknown> {
  return new AssetGraph(
    defineDefinitions({
      assets: [
        defineAsset({ key: 'prices', partitions: days, codeVersion: '1', materialize: noop }),
        defineAsset({ key: 'validated', deps: ['prices'], partitions: days, codeVersion: '1', automation: { kind: 'eager' }, materialize: noop }),
        defineAsset({
          key: 'forecast',
          deps: [{ asset: 'validated', mapping: { kind: 'all' } }],
          codeVersion: '1',
          automation: { kind: 'eager' },
          materialize: noop,
        }),
      ] as AssetDefinition<unknown>[],
    }),
  );
}

/** [asset, partition, data version, consumed [asset, partition, data version][] ]. */
function snap(entries: [string, string, string, [string, string, string][]][]): CurrentSnapshot {
  const out: CurrentSnapshot = new Map();
  let id = 0;
  for (const [asset, partition, dv, inputs] of entries) {
    const rec: CurrentRecord = {
      id: ++id,
      codeVersion: '1' as CodeVersion,
      dataVersion: dv as DataVersion,
      location: `${asset}/${partition}`,
      runId: 'r',
      endedAt: id,
      inputs: inputs.map(([a, p, v]) => ({ asset: a as AssetKey, partition: p, materializationId: 0, dataVersion: v as DataVersion })),
    };
    if (!out.has(asset as AssetKey)) out.set(asset as AssetKey, new Map());
    out.get(asset as AssetKey)!.set(partition, rec);
  }
  return out;
}

function policies(g: AssetGraph<unknown>, s: CurrentSnapshot) {
  const view = snapshotView(s);
  return evaluatePolicies({ graph: g, resolver: new StalenessResolver(g, view, now), view, now, cursors: new Map(), catchUpMs: HOUR });
}

const settled: [string, string, string, [string, string, string][]][] = [
  ['prices', '2026-11-01', 'p1', []],
  ['prices', '2026-11-02', 'p2', []],
  ['validated', '2026-11-01', 'v1', [['prices', '2026-11-01', 'p1']]],
  ['validated', '2026-11-02', 'v2', [['prices', '2026-11-02', 'p2']]],
  [
    'forecast',
    '',
    'f1',
    [
      ['validated', '2026-11-01', 'v1'],
      ['validated', '2026-11-02', 'v2'],
    ],
  ],
];

test("eager: nothing is requested while every asset consumed its upstreams' current data", () => {
  const e = policies(graph(), snap(settled));
  assert.equal(e.evaluated, ['validated', 'forecast']);
  assert.equal(e.requests, []);
});

test('eager: an upstream whose data version changed requests exactly the partition that read it, with a stable key', () => {
  const changed = settled.map((x) => (x[0] === 'prices' && x[1] === '2026-11-02' ? (['prices', '2026-11-02', 'p2b', []] as typeof x) : x));
  const e = policies(graph(), snap(changed));
  assert.is(e.requests.length, 1);
  const r = e.requests[0]!;
  assert.is(r.selection, 'validated');
  assert.equal(r.partitions, ['2026-11-02']);
  assert.match(r.reason, /eager: 2026-11-02: upstream `?prices/);
  // The same upstream data on the next tick is the same request (the store claims it once).
  assert.is(policies(graph(), snap(changed)).requests[0]!.dedupeKey, r.dedupeKey);
});

test('eager: an upstream re-materialized with identical data requests nothing', () => {
  // A new materialization of prices[2026-11-02] (new id, later time) with the same data version p2.
  const again = [...settled.filter((x) => !(x[0] === 'prices' && x[1] === '2026-11-02')), ['prices', '2026-11-02', 'p2', []] as (typeof settled)[number]];
  assert.equal(policies(graph(), snap(again)).requests, []);
});

test('eager: a missing latest partition is requested once its inputs exist, and waits with a reason when they do not', () => {
  const noValidated2 = settled.filter((x) => !(x[0] === 'validated' && x[1] === '2026-11-02'));
  const e = policies(graph(), snap(noValidated2));
  assert.equal(
    e.requests.map((r) => [r.selection, r.partitions]),
    [
      ['validated', ['2026-11-02']],
      ['forecast', undefined],
    ],
  );
  const noPrices2 = noValidated2.filter((x) => !(x[0] === 'prices' && x[1] === '2026-11-02'));
  const w = policies(graph(), snap(noPrices2));
  assert.equal(
    w.requests.filter((r) => r.selection === 'validated'),
    [],
  );
  assert.ok(
    w.skipped.some((s) => s.subject === 'validated[2026-11-02]' && /waiting for upstream prices\[2026-11-02\]/.test(s.reason)),
    JSON.stringify(w.skipped),
  );
});

test('missing and on_cron policies', () => {
  const g = new AssetGraph(
    defineDefinitions({
      assets: [
        defineAsset({ key: 'prices', partitions: days, codeVersion: '1', automation: { kind: 'missing' }, materialize: noop }),
        defineAsset({
          key: 'report',
          deps: ['prices'],
          partitions: days,
          codeVersion: '1',
          automation: { kind: 'on_cron', cron: '0 6 * * *', timezone: 'America/New_York' },
          materialize: noop,
        }),
      ] as AssetDefinition<unknown>[],
    }),
  );
  const s = snap([['prices', '2026-11-01', 'p1', []]]);
  const view = snapshotView(s);
  const at = new Date('2026-11-05T11:05:00Z'); // 06:05 EST
  const e = evaluatePolicies({ graph: g, resolver: new StalenessResolver(g, view, at), view, now: at, cursors: new Map(), catchUpMs: HOUR });
  assert.equal(
    e.requests.map((r) => [r.selection, r.partitions, r.dedupeKey.split(':')[0]]),
    [
      ['prices', ['2026-11-02'], 'missing'],
      ['report', ['2026-11-02'], 'on_cron'],
    ],
  );
  // With the cursor the first tick left, the same due time does not request again.
  const again = evaluatePolicies({ graph: g, resolver: new StalenessResolver(g, view, at), view, now: at, cursors: e.cursors, catchUpMs: HOUR });
  assert.equal(
    again.requests.map((r) => r.selection),
    ['prices'],
  );
});

// ---- freshness ----

const forecastDays = dailyPartitions({ start: '2026-11-01', endOffset: 2 });
const fresh = defineAsset({
  key: 'forecast',
  partitions: forecastDays,
  codeVersion: '1',
  freshness: { at: '14:30', timezone: 'America/New_York', partitionDay: -1 },
  materialize: noop,
});

test('freshness: day D exists by 14:30 EPT on D-1 — on time, late with how late, with a fixed clock', () => {
  // 2026-12-02 15:00 EST: day 2026-12-03 was due at 14:30 EST (19:30 UTC) today.
  const at = new Date('2026-12-02T20:00:00Z');
  const late = evaluateFreshness(fresh, snapshotView(snap([['forecast', '2026-12-02', 'f', []]])), at)!;
  assert.is(late.state, 'late');
  assert.is(late.partition, '2026-12-03');
  assert.is(late.reason, 'forecast[2026-12-03] was due by 2026-12-02 14:30 EST and is missing; 30 min 0 s late');
  const s = snap([['forecast', '2026-12-03', 'f', []]]);
  const onTime = evaluateFreshness(
    fresh,
    {
      ...snapshotView(s),
      current: (a, p) => (p === '2026-12-03' ? { ...s.get(a as AssetKey)!.get(p)!, endedAt: Date.parse('2026-12-02T19:05:00Z') } : undefined),
    },
    at,
  )!;
  assert.is(onTime.state, 'on_time');
  assert.is(onTime.reason, 'forecast[2026-12-03] materialized 2026-12-02 14:05 EST, before its deadline 2026-12-02 14:30 EST');
  // Before today's deadline, the verdict is about yesterday's deadline (day 2026-12-02).
  assert.is(evaluateFreshness(fresh, snapshotView(s), new Date('2026-12-02T15:00:00Z'))!.partition, '2026-12-02');
});

test('freshness of an unpartitioned asset: materialized between two deadlines', () => {
  const a = defineAsset({ key: 'latest', codeVersion: '1', freshness: { at: '14:30', timezone: 'America/New_York' }, materialize: noop });
  const view = (endedAt: number) => ({
    current: () => ({
      ...snap([['latest', '', 'x', []]])
        .get('latest' as AssetKey)!
        .get('')!,
      endedAt,
    }),
    materializedPartitions: () => [''],
  });
  const at = new Date('2026-12-02T20:00:00Z');
  assert.is(evaluateFreshness(a, view(Date.parse('2026-12-02T18:00:00Z')), at)!.state, 'on_time');
  const late = evaluateFreshness(a, view(Date.parse('2026-12-01T18:00:00Z')), at)!;
  assert.is(late.state, 'late');
  assert.match(late.reason, /due by 2026-12-02 14:30 EST .* last materialized 2026-12-01 13:00 EST; 30 min 0 s late/);
  assert.is(evaluateFreshness(a, { current: () => undefined, materializedPartitions: () => [] }, at)!.state, 'late');
});

test('freshness: a deadline whose partition is outside the definition is unknown, with the reason', () => {
  const short = defineAsset({
    key: 'f',
    partitions: days,
    codeVersion: '1',
    freshness: { at: '14:30', timezone: 'America/New_York', partitionDay: -1 },
    materialize: noop,
  });
  const v = evaluateFreshness(short, snapshotView(new Map()), new Date('2026-12-02T20:00:00Z'))!;
  assert.is(v.state, 'unknown');
  assert.match(v.reason, /f\[2026-12-03\] was due by 2026-12-02 14:30 EST, but it is not a partition of the asset \(daily from 2026-11-01 to 2026-11-02\)/);
});

test('freshness and automation declarations are checked when the asset is defined', () => {
  assert.throws(
    () => defineAsset({ key: 'x', codeVersion: '1', freshness: { at: '2:30pm', timezone: 'America/New_York' }, materialize: noop }),
    /Asset x freshness: time "2:30pm" must be HH:MM/,
  );
  assert.throws(
    () => defineAsset({ key: 'x', codeVersion: '1', automation: { kind: 'on_cron', cron: 'often', timezone: 'UTC' }, materialize: noop }),
    /Asset x automation: cron "often"/,
  );
});

// ---- future-day partitions ----

test('a daily end offset adds today (1) and tomorrow (2) to the partitions', () => {
  const at = new Date('2026-12-02T20:00:00Z');
  assert.is(dailyPartitions({ start: '2026-11-01' }).keys(at).at(-1), '2026-12-01');
  assert.is(dailyPartitions({ start: '2026-11-01', endOffset: 1 }).keys(at).at(-1), '2026-12-02');
  assert.is(forecastDays.keys(at).at(-1), '2026-12-03');
  assert.is(forecastDays.validate('2026-12-03', at), '2026-12-03');
  assert.throws(() => forecastDays.validate('2026-12-04', at), /outside this asset's partitions \(2026-11-01 to 2026-12-03\)/);
  assert.throws(() => dailyPartitions({ start: '2026-11-01', end: '2026-11-05', endOffset: 1 }), /give end or endOffset, not both/);
});

// ---- sensors ----

test('a sensor that throws, times out or returns nonsense is a failure value, not an exception', async () => {
  const base = { cursor: undefined, now, resources: {} };
  const boom = defineSensor({
    name: 'boom',
    intervalMs: 1000,
    evaluate: () => {
      throw new Error('API key rejected');
    },
  });
  assert.equal(await runSensor(boom, base, 1000), { ok: false, error: 'sensor boom failed: API key rejected' });
  const slow = defineSensor({
    name: 'slow',
    intervalMs: 1000,
    evaluate: ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
  });
  assert.equal(await runSensor(slow, base, 50), { ok: false, error: 'sensor slow did not answer within 50 ms' });
  const odd = defineSensor({ name: 'odd', intervalMs: 1000, evaluate: () => ({ runRequests: [{ selection: 'a', dedupeKey: '', reason: '' }] }) });
  assert.equal(await runSensor(odd, base, 1000), { ok: false, error: 'sensor odd returned a run request without a selection or a dedupeKey' });
  const good = defineSensor({ name: 'good', intervalMs: 1000, evaluate: ({ cursor }) => ({ runRequests: [], cursor: `${cursor ?? ''}x` }) });
  assert.equal(await runSensor(good, base, 1000), { ok: true, result: { runRequests: [], cursor: 'x' } });
});

test.run();
