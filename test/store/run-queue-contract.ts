// The run queue part of the lineage store contract (contract.ts runs it on every store):
// order, the global and per-pool limits, cancel, a slot freed when its run ends, and two
// handles (two daemons) claiming at once never getting the same run.
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';
import { CANCELED_ON_REQUEST, type NewQueuedRun, type QueueLimits } from '../../runtime/store/run-queue-records.ts';

export function runQueueContract(
  t: Test,
  fresh: () => Promise<{ store: LineageStore; location: string }>,
  again: (location: string) => Promise<LineageStore>,
): void {
  const run = (runId: string, pools: string[] = [], at = 1000): NewQueuedRun => ({
    runId,
    selection: `asset_${runId}`,
    partitions: null,
    force: false,
    trigger: 'api',
    pools,
    enqueuedAt: at,
  });
  const limits = (maxConcurrentRuns: number, poolLimits: Record<string, number> = {}): QueueLimits => ({ maxConcurrentRuns, poolLimits });

  t('run queue: claimed in the order queued, up to the global limit; a finished run frees its slot', async () => {
    const { store } = await fresh();
    for (const id of ['r1', 'r2', 'r3']) await store.enqueueRun(run(id));
    assert.equal(
      (await store.runQueue()).map((q) => [q.runId, q.state]),
      [
        ['r1', 'queued'],
        ['r2', 'queued'],
        ['r3', 'queued'],
      ],
    );
    assert.is((await store.claimQueuedRun('a', limits(2), 2000)).claimed?.runId, 'r1');
    assert.is((await store.claimQueuedRun('a', limits(2), 2000)).claimed?.runId, 'r2');
    const full = await store.claimQueuedRun('a', limits(2), 2000);
    assert.is(full.claimed, undefined);
    assert.is(full.claimed === undefined && full.waiting, '2 runs are running, the most allowed at once (RUN_QUEUE_MAX_CONCURRENT=2)');
    await store.finishQueuedRun('r1');
    const third = await store.claimQueuedRun('b', limits(2), 3000);
    assert.equal([third.claimed?.runId, third.claimed?.state, third.claimed?.claimedBy, third.claimed?.claimedAt], ['r3', 'launched', 'b', 3000]);
    assert.equal(
      (await store.runQueue({ states: ['launched', 'finished'] })).map((q) => [q.runId, q.state]),
      [
        ['r1', 'finished'],
        ['r2', 'launched'],
        ['r3', 'launched'],
      ],
    );
  });

  t('run queue: a run waiting for a full pool lets later runs of other pools go ahead; its turn keeps its place', async () => {
    const { store } = await fresh();
    await store.enqueueRun(run('train1', ['training']));
    await store.enqueueRun(run('train2', ['training']));
    await store.enqueueRun(run('prices', ['io']));
    const l = limits(3, { training: 1 });
    assert.is((await store.claimQueuedRun('a', l, 1)).claimed?.runId, 'train1');
    // train2 waits for the training pool; prices, queued after it, starts.
    assert.is((await store.claimQueuedRun('a', l, 2)).claimed?.runId, 'prices');
    const waiting = await store.claimQueuedRun('a', l, 3, 'train2');
    assert.is(waiting.claimed === undefined && waiting.waiting, 'pool training is full: 1 running, limit 1 (RUN_QUEUE_POOL_LIMITS)');
    await store.finishQueuedRun('train1');
    assert.is((await store.claimQueuedRun('a', l, 4, 'train2')).claimed?.runId, 'train2');
  });

  t('run queue: a process waiting to start its own run waits behind older runs that can start', async () => {
    const { store } = await fresh();
    await store.enqueueRun(run('older'));
    await store.enqueueRun(run('mine'));
    const r = await store.claimQueuedRun('me', limits(1), 1, 'mine');
    assert.is(r.claimed === undefined && r.waiting, 'run older, queued earlier, starts first');
    assert.is((await store.claimQueuedRun('them', limits(1), 2, 'older')).claimed?.runId, 'older');
    await store.finishQueuedRun('older');
    assert.is((await store.claimQueuedRun('me', limits(1), 3, 'mine')).claimed?.runId, 'mine');
  });

  t('run queue: a queued run can be canceled (never claimed after); a launched one is not canceled by the queue', async () => {
    const { store } = await fresh();
    await store.enqueueRun(run('r1'));
    await store.enqueueRun(run('r2'));
    assert.equal(await store.cancelQueuedRun('r1'), { canceled: true });
    assert.equal(await store.cancelQueuedRun('r1'), { canceled: false, state: 'canceled' });
    assert.equal(await store.cancelQueuedRun('nope'), { canceled: false, state: 'unknown' });
    assert.is((await store.claimQueuedRun('a', limits(5), 1)).claimed?.runId, 'r2');
    assert.equal(await store.cancelQueuedRun('r2'), { canceled: false, state: 'launched' });
    assert.is((await store.claimQueuedRun('a', limits(5), 2)).claimed, undefined);
    assert.is((await store.queuedRun('r1'))?.state, 'canceled');
  });

  t('run queue: a queued row keeps its heartbeat (from when it was queued) and a canceled one why', async () => {
    const { store } = await fresh();
    await store.enqueueRun(run('r1', [], 1000));
    await store.enqueueRun(run('r2', [], 1000));
    assert.equal((await store.queuedRun('r1'))?.heartbeatAt, 1000);
    await store.heartbeatQueuedRuns(['r1', 'r2'], 5000);
    assert.equal(
      (await store.runQueue()).map((q) => q.heartbeatAt),
      [5000, 5000],
    );
    await store.cancelQueuedRun('r1');
    await store.cancelQueuedRun('r2', 'canceled by the test');
    assert.equal(
      (await store.runQueue({ states: ['canceled'] })).map((q) => [q.runId, q.cancelReason]),
      [
        ['r1', CANCELED_ON_REQUEST],
        ['r2', 'canceled by the test'],
      ],
    );
    await store.heartbeatQueuedRuns(['r1'], 9000);
    assert.is((await store.queuedRun('r1'))?.heartbeatAt, 5000, 'a row no longer queued is left alone');
  });

  t('run queue: two handles claiming at once never get the same run, and together respect the limit', async () => {
    const { store, location } = await fresh();
    const other = await again(location);
    for (let i = 0; i < 6; i++) await store.enqueueRun(run(`r${i}`));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).claimQueuedRun(`d${i % 2}`, limits(4), i)));
    const got = claims.flatMap((c) => (c.claimed ? [c.claimed.runId] : []));
    assert.is(got.length, 4, `claimed ${got.join(', ')}`);
    assert.is(new Set(got).size, 4);
    assert.equal([...got].sort(), ['r0', 'r1', 'r2', 'r3']);
  });
}
