// decision.ts on its own: the one rule the planner and the executor's live re-check share.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decideRun } from '../../runtime/decision.ts';
import { dailyPartitions, type CodeVersion, type CurrentRecord, type DataVersion } from '../../runtime/index.ts';
import type { PartitionStatus } from '../../runtime/staleness.ts';

const now = new Date('2025-05-10T12:00:00Z');
const days = dailyPartitions({ start: '2025-05-01', end: '2025-05-10' });
const ctx = { now, dynamic: new Map(), force: false };
const current: CurrentRecord = {
  id: 1,
  codeVersion: '1' as CodeVersion,
  dataVersion: 'aaaa' as DataVersion,
  location: 'x',
  runId: 'r',
  endedAt: 0,
  inputs: [],
};
const fresh: PartitionStatus = { status: 'FRESH', causes: [], current };

test('missing, stale for its own code, due for a re-read, or forced: it runs, saying why', () => {
  assert.equal(decideRun({ partitions: days, refresh: undefined }, '2025-05-01', { status: 'MISSING', causes: [], current: undefined }, ctx), {
    run: true,
    reason: 'missing: never materialized',
  });
  const stale: PartitionStatus = { status: 'STALE', causes: [{ kind: 'code', from: '1' as CodeVersion, to: '2' as CodeVersion }], current };
  assert.equal(decideRun({ partitions: days, refresh: undefined }, '2025-05-01', stale, ctx), { run: true, reason: 'stale: code version changed from 1 to 2' });
  const refreshed = decideRun({ partitions: days, refresh: { trailing: 2 } }, '2025-05-10', fresh, ctx);
  assert.ok(refreshed.run && /^re-read: the source may revise its last 2 days/.test(refreshed.reason), JSON.stringify(refreshed));
  assert.equal(decideRun({ partitions: days, refresh: undefined }, '2025-05-01', fresh, { ...ctx, force: true }), { run: true, reason: 'forced' });
});

test('fresh, or stale only because an upstream is itself stale: it need not run', () => {
  assert.equal(decideRun({ partitions: days, refresh: { trailing: 2 } }, '2025-05-01', fresh, ctx), { run: false, status: fresh });
  const upstreamStale: PartitionStatus = {
    status: 'STALE',
    causes: [{ kind: 'upstream-stale', upstream: 'raw' as never, partitions: ['2025-05-01'], count: 1 }],
    current,
  };
  assert.equal(decideRun({ partitions: days, refresh: undefined }, '2025-05-01', upstreamStale, ctx).run, false);
});

test.run();
