// foldRun on its own: a run's events in, its progress out, as the CLI's live view, the UI's
// run page and its event stream all read it. No store, no clock: events are written by hand
// as the executor emits them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toStoredEvent } from '../../runtime/executor/recorder.ts';
import { EMPTY_RUN_FOLD, foldRun, pickCounts, type AssetKey, type DataVersion, type EventRecord, type RunEvent } from '../../runtime/index.ts';
import { runProgress } from '../../serving/ui-api/runs-view.ts';

const RAW = 'pjm/raw' as AssetKey;
const MODEL = 'pjm/model' as AssetKey;
const runId = 'r1';

const started: RunEvent = {
  runId,
  ts: 0,
  type: 'run_started',
  selection: '*',
  partitions: null,
  trigger: 'test',
  planned: { run: 3, conditional: 0, skip: 5 },
  assets: [
    { asset: RAW, steps: 2 },
    { asset: MODEL, steps: 1 },
  ],
};
const step = (ts: number, asset: AssetKey, partition: string) => ({ runId, ts, asset, partition });

/** A run canceled (SIGINT) while pjm/raw's second day and the model were in progress. */
const canceledRun: RunEvent[] = [
  started,
  { ...step(1, RAW, '2025-05-01'), type: 'step_started', attempt: 1 },
  { ...step(2, RAW, '2025-05-02'), type: 'step_started', attempt: 1 },
  { ...step(3, RAW, '2025-05-01'), type: 'step_materialized', dataVersion: 'aaaa' as DataVersion, unchanged: false, durationMs: 2, metadata: {} },
  { ...step(4, MODEL, ''), type: 'step_started', attempt: 1 },
  { ...step(5, RAW, '2025-05-02'), type: 'step_skipped', reason: 'run canceled; nothing was published' },
  { ...step(6, MODEL, ''), type: 'step_skipped', reason: 'run canceled' },
];

test('a step canceled after it started is done (skipped), not running', () => {
  const fold = foldRun(canceledRun);
  assert.equal(pickCounts(fold), { planned: 3, done: 3, running: 0, materialized: 1, failed: 0, blocked: 0, skipped: 2 });
  assert.equal(fold.inFlight, new Set());
  assert.equal(fold.assets.get(RAW), { planned: 2, done: 2, running: 0, materialized: 1, failed: 0, blocked: 0, skipped: 1, startedAt: 1, endedAt: 5 });
  assert.equal(fold.assets.get(MODEL), { planned: 1, done: 1, running: 0, materialized: 0, failed: 0, blocked: 0, skipped: 1, startedAt: 4, endedAt: 6 });
  // Half-way, before the cancel, both are running.
  assert.equal(pickCounts(foldRun(canceledRun.slice(0, 5))), { planned: 3, done: 1, running: 2, materialized: 1, failed: 0, blocked: 0, skipped: 0 });
});

test('a retried step is one step running; failed and blocked steps end it and count apart', () => {
  const fold = foldRun([
    started,
    { ...step(1, RAW, '2025-05-01'), type: 'step_started', attempt: 1 },
    { ...step(2, RAW, '2025-05-01'), type: 'step_retrying', attempt: 1, error: 'timeout', delayMs: 10 },
    { ...step(3, RAW, '2025-05-01'), type: 'step_started', attempt: 2 },
    { ...step(4, RAW, '2025-05-02'), type: 'step_started', attempt: 1 },
  ]);
  assert.is(fold.running, 2);
  assert.is(fold.assets.get(RAW)!.running, 2);
  const ended = foldRun(
    [
      { ...step(5, RAW, '2025-05-01'), type: 'step_failed', error: 'boom', durationMs: 4 },
      { ...step(6, RAW, '2025-05-02'), type: 'step_blocked', failedChecks: ['not_empty'], message: 'no rows' },
    ],
    fold,
  );
  assert.equal(pickCounts(ended), { planned: 3, done: 2, running: 0, materialized: 0, failed: 1, blocked: 1, skipped: 0 });
  assert.is(ended.assets.get(RAW)!.endedAt, 6);
  assert.is(fold.running, 2, 'folding onto a fold leaves it as it was');
  assert.is(fold.assets.get(RAW)!.running, 2, "folding onto a fold leaves its assets' progress as it was");
  assert.is(fold.assets.get(RAW)!.endedAt, null);
});

test('folded in batches or at once, the same progress', () => {
  let fold = EMPTY_RUN_FOLD;
  for (const e of canceledRun) fold = foldRun([e], fold);
  assert.equal(fold, foldRun(canceledRun));
});

test('the UI folds the stored events to what the terminal folds from the live ones', () => {
  const records: EventRecord[] = canceledRun.map((e, i) => {
    const s = toStoredEvent(e);
    return {
      id: i + 1,
      runId: s.runId,
      ts: s.ts,
      level: s.level,
      type: s.type,
      asset: s.asset ?? null,
      partition: s.partition ?? null,
      message: s.message,
      data: s.data === undefined ? null : JSON.parse(JSON.stringify(s.data)),
    };
  });
  assert.equal(runProgress(records), pickCounts(foldRun(canceledRun)));
});

test.run();
