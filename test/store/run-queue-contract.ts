// The run queue part of the lineage store contract (contract.ts runs it on every store):
// order, the global and per-pool limits, cancel, a slot freed when its run ends, two
// handles (two daemons) claiming at once never getting the same run, and liveness judged by
// the store's clock alone, whatever clock the hosts that queue and claim keep.
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';
import { CANCELED_ON_REQUEST, QUEUE_STALE_AFTER_MS, type NewQueuedRun, type QueueLimits } from '../../runtime/store/run-queue-records.ts';

export function runQueueContract(
  t: Test,
  fresh: () => Promise<{ store: LineageStore; location: string }>,
  again: (location: string) => Promise<LineageStore>,
  exec: (location: string, sql: string) => Promise<void>,
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
  /** `at` is the store's now when the store is on this machine (the tests' throwaway stores are): within a second of `before`..now. */
  const assertStoreNow = (at: number | null | undefined, before: number, what: string): void => {
    const after = Date.now();
    assert.ok(typeof at === 'number' && at >= before - 1000 && at <= after + 1000, `${what}: ${at} not within ${before}..${after}`);
  };
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
    assert.is((await store.claimQueuedRun('a', limits(2))).claimed?.runId, 'r1');
    assert.is((await store.claimQueuedRun('a', limits(2))).claimed?.runId, 'r2');
    const full = await store.claimQueuedRun('a', limits(2));
    assert.is(full.claimed, undefined);
    assert.is(full.claimed === undefined && full.waiting, '2 runs are running, the most allowed at once (RUN_QUEUE_MAX_CONCURRENT=2)');
    await store.finishQueuedRun('r1');
    const before = Date.now();
    const third = await store.claimQueuedRun('b', limits(2));
    assert.equal([third.claimed?.runId, third.claimed?.state, third.claimed?.claimedBy], ['r3', 'launched', 'b']);
    assertStoreNow(third.claimed?.claimedAt, before, 'claimedAt is the store clock');
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
    assert.is((await store.claimQueuedRun('a', l)).claimed?.runId, 'train1');
    // train2 waits for the training pool; prices, queued after it, starts.
    assert.is((await store.claimQueuedRun('a', l)).claimed?.runId, 'prices');
    const waiting = await store.claimQueuedRun('a', l, 'train2');
    assert.is(waiting.claimed === undefined && waiting.waiting, 'pool training is full: 1 running, limit 1 (RUN_QUEUE_POOL_LIMITS)');
    await store.finishQueuedRun('train1');
    assert.is((await store.claimQueuedRun('a', l, 'train2')).claimed?.runId, 'train2');
  });

  t('run queue: a process waiting to start its own run waits behind older runs that can start', async () => {
    const { store } = await fresh();
    await store.enqueueRun(run('older'));
    await store.enqueueRun(run('mine'));
    const r = await store.claimQueuedRun('me', limits(1), 'mine');
    assert.is(r.claimed === undefined && r.waiting, 'run older, queued earlier, starts first');
    assert.is((await store.claimQueuedRun('them', limits(1), 'older')).claimed?.runId, 'older');
    await store.finishQueuedRun('older');
    assert.is((await store.claimQueuedRun('me', limits(1), 'mine')).claimed?.runId, 'mine');
  });

  t('run queue: a queued run can be canceled (never claimed after); a launched one is not canceled by the queue', async () => {
    const { store } = await fresh();
    await store.enqueueRun(run('r1'));
    await store.enqueueRun(run('r2'));
    assert.equal(await store.cancelQueuedRun('r1'), { canceled: true });
    assert.equal(await store.cancelQueuedRun('r1'), { canceled: false, state: 'canceled' });
    assert.equal(await store.cancelQueuedRun('nope'), { canceled: false, state: 'unknown' });
    assert.is((await store.claimQueuedRun('a', limits(5))).claimed?.runId, 'r2');
    assert.equal(await store.cancelQueuedRun('r2'), { canceled: false, state: 'launched' });
    assert.is((await store.claimQueuedRun('a', limits(5))).claimed, undefined);
    assert.is((await store.queuedRun('r1'))?.state, 'canceled');
  });

  t('run queue: a queued row keeps its heartbeat, stamped by the store clock from when it was queued, and a canceled one why', async () => {
    const { store } = await fresh();
    const queued = Date.now();
    // enqueuedAt is the caller's clock, shown as given; the heartbeat is the store's.
    await store.enqueueRun(run('r1', [], 1000));
    await store.enqueueRun(run('r2', [], 1000));
    const r1 = (await store.queuedRun('r1'))!;
    assert.is(r1.enqueuedAt, 1000);
    assertStoreNow(r1.heartbeatAt, queued, 'heartbeat when queued');
    await new Promise((r) => setTimeout(r, 20));
    const beat = Date.now();
    await store.heartbeatQueuedRuns(['r1', 'r2']);
    const beats = (await store.runQueue()).map((q) => q.heartbeatAt);
    for (const b of beats) assertStoreNow(b, beat, 'heartbeat');
    assert.ok(beats[0]! > r1.heartbeatAt, `${beats[0]} after ${r1.heartbeatAt}`);
    await store.cancelQueuedRun('r1');
    await store.cancelQueuedRun('r2', 'canceled by the test');
    assert.equal(
      (await store.runQueue({ states: ['canceled'] })).map((q) => [q.runId, q.cancelReason]),
      [
        ['r1', CANCELED_ON_REQUEST],
        ['r2', 'canceled by the test'],
      ],
    );
    await new Promise((r) => setTimeout(r, 20));
    await store.heartbeatQueuedRuns(['r1']);
    assert.is((await store.queuedRun('r1'))?.heartbeatAt, beats[0], 'a row no longer queued is left alone');
  });

  t(
    "run queue: another host's row is judged by the store clock: live whatever the clocks of the hosts that queued and claim it, dead after 90 s of silence",
    async () => {
      const { store, location } = await fresh();
      // Queued by a host whose clock is 10 minutes slow: its enqueuedAt says so, its heartbeat does not.
      const slow = Date.now() - 10 * 60_000;
      await store.enqueueRun(run('live', [], slow));
      await store.enqueueRun(run('dead', [], slow));
      await store.enqueueRun(run('mine', [], slow));
      await exec(location, `UPDATE run_queue SET owner_host = 'worker-7.example', owner_pid = 4242 WHERE run_id IN ('live', 'dead')`);
      // The dead one's process went quiet 200 s ago by the store's own clock.
      await exec(location, `UPDATE run_queue SET heartbeat_at = heartbeat_at - 200000 WHERE run_id = 'dead'`);
      await store.heartbeatQueuedRuns(['live']);
      // A claim from this host (whatever its clock: the claim takes none) waits behind the live row and cancels the dead one.
      const r = await (await again(location)).claimQueuedRun('me', limits(1), 'mine');
      assert.is(r.claimed === undefined && r.waiting, 'run live, queued earlier, starts first');
      const dead = (await store.queuedRun('dead'))!;
      assert.is(dead.state, 'canceled');
      assert.match(dead.cancelReason ?? '', /^canceled: the process that queued it \(pid 4242 on worker-7\.example\) has sent no heartbeat for 20\d s/);
      const live = (await store.queuedRun('live'))!;
      assert.equal([live.state, live.cancelReason], ['queued', null]);
      assert.ok(Date.now() - live.heartbeatAt < QUEUE_STALE_AFTER_MS);
    },
  );

  t('run queue: two handles claiming at once never get the same run, and together respect the limit', async () => {
    const { store, location } = await fresh();
    const other = await again(location);
    for (let i = 0; i < 6; i++) await store.enqueueRun(run(`r${i}`));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? store : other).claimQueuedRun(`d${i % 2}`, limits(4))));
    const got = claims.flatMap((c) => (c.claimed ? [c.claimed.runId] : []));
    assert.is(got.length, 4, `claimed ${got.join(', ')}`);
    assert.is(new Set(got).size, 4);
    assert.equal([...got].sort(), ['r0', 'r1', 'r2', 'r3']);
  });
}
