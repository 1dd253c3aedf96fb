import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dailyPartitions, hourlyPartitions, staticPartitions, parsePartitionArgument, trailingWindowMapping, isRuntimeError } from '../../runtime/index.ts';
import { mapPartitions } from '../../runtime/partition-mapping.ts';

const now = new Date('2025-06-01T12:00:00Z');

test('daily partitions run from start to the last complete day', () => {
  const d = dailyPartitions({ start: '2025-05-29' });
  assert.equal(d.keys(now), ['2025-05-29', '2025-05-30', '2025-05-31']);
  const bounded = dailyPartitions({ start: '2024-02-27', end: '2024-03-01' });
  assert.equal(bounded.keys(now), ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
});

test('hourly partitions are UTC hours', () => {
  const h = hourlyPartitions({ start: '2025-06-01T09:00' });
  // At 12:00 the 11:00 window has just completed.
  assert.equal(h.keys(now), ['2025-06-01T09:00', '2025-06-01T10:00', '2025-06-01T11:00']);
  assert.is(h.shift('2025-06-01T10:00', -1, now), '2025-06-01T09:00');
});

test('static partitions keep their order', () => {
  const s = staticPartitions(['WESTERN_HUB', 'AEP-DAYTON_HUB', 'COMED']);
  assert.equal(s.range('AEP-DAYTON_HUB', 'COMED', now), ['AEP-DAYTON_HUB', 'COMED']);
  assert.throws(() => s.validate('NOPE', now), /Unknown partition "NOPE"; the partitions are: WESTERN_HUB/);
});

test('a backfill range expands, clipped to the definition', () => {
  const d = dailyPartitions({ start: '2025-05-03', end: '2025-05-31' });
  const keys = parsePartitionArgument('2025-05-01...2025-05-31', d, now);
  assert.is(keys.length, 29);
  assert.is(keys[0], '2025-05-03');
  assert.equal(parsePartitionArgument('2025-05-04,2025-05-06', d, now), ['2025-05-04', '2025-05-06']);
});

test('malformed partitions name the key and the format', () => {
  const d = dailyPartitions({ start: '2025-01-01', end: '2025-12-31' });
  for (const [arg, pattern] of [
    ['2025-13-01', /Invalid partition "2025-13-01": daily partitions are written YYYY-MM-DD/],
    ['2025-02-30', /Invalid partition "2025-02-30"/],
    ['05/01/2025', /Invalid partition "05\/01\/2025"/],
    ['2024-12-31', /outside this asset's partitions \(2025-01-01 to 2025-12-31\)/],
    ['2025-05-31...2025-05-01', /ends before it starts/],
    ['2025-05-01...2025-05-02...2025-05-03', /Malformed partition range/],
  ] as const) {
    try {
      parsePartitionArgument(arg, d, now);
      assert.unreachable(`accepted ${arg}`);
    } catch (err) {
      assert.ok(isRuntimeError(err, 'invalid-partition'), String(err));
      assert.match((err as Error).message, pattern);
    }
  }
});

test('mappings: identity, all upstream, trailing window', () => {
  const d = dailyPartitions({ start: '2025-05-01', end: '2025-05-10' });
  const between = { upstream: d, downstream: d, now };
  assert.equal(mapPartitions({ kind: 'identity' }, '2025-05-05', between), ['2025-05-05']);
  assert.is(mapPartitions({ kind: 'all' }, '', { ...between, downstream: undefined }).length, 10);
  assert.equal(mapPartitions(trailingWindowMapping(2), '2025-05-05', between), ['2025-05-03', '2025-05-04', '2025-05-05']);
  assert.equal(mapPartitions(trailingWindowMapping(2, { includeCurrent: false }), '2025-05-05', between), ['2025-05-03', '2025-05-04']);
  // At the start of the definition the window is clipped, not padded.
  assert.equal(mapPartitions(trailingWindowMapping(3), '2025-05-02', between), ['2025-05-01', '2025-05-02']);
  assert.equal(mapPartitions({ kind: 'all' }, '2025-05-02', { upstream: undefined, downstream: d, now }), ['']);
});

test('3,650 daily partitions enumerate and map quickly enough to plan', () => {
  const d = dailyPartitions({ start: '2015-01-01', end: '2024-12-28' });
  const keys = d.keys(now);
  assert.is(keys.length, 3650);
  assert.is(keys[3649], '2024-12-28');
});

test.run();
