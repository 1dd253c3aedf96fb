// The worker pool's queue (PostgresWorkQueue) at the level of its statements, on a real
// throwaway cluster: a busy worker completes a unit and claims the next in one statement; a
// lost claim's result is dropped but the worker still gets the next unit; the unit being
// completed is never claimed again by the same statement; announcements name the new state.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AssetKey } from '../../runtime/index.ts';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';
import { openLineageStore } from '../../runtime/store/open-store.ts';
import { PostgresWorkQueue } from '../../runtime/store/postgres/work-queue.ts';
import type { WorkUnitChange } from '../../runtime/store/work-queue-api.ts';
import { startPostgres, type PostgresCluster } from '../support/postgres.ts';

let cluster: PostgresCluster;
const opened: { close(): Promise<void> }[] = [];

async function queueWithRun(label: string): Promise<{ store: LineageStore; queue: PostgresWorkQueue<{ n: number }, string> }> {
  const url = await cluster.createDatabase(label);
  const store = await openLineageStore(url);
  const queue = PostgresWorkQueue.open<{ n: number }, string>(url);
  opened.push(queue, store);
  await store.createRun({ id: 'r1', selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  return { store, queue };
}

const unit = (n: number) => ({
  runId: 'r1',
  unitKey: `u${n}`,
  asset: 'example/readings' as AssetKey,
  partitions: [`p${n}`],
  pool: null,
  payload: { n },
  maxAttempts: 3,
  now: Date.now(),
});

test.before(async () => {
  cluster = await startPostgres();
});
test.after.each(async () => {
  for (const o of opened.splice(0)) await o.close();
});
test.after(() => cluster.stop());

test('completeAndClaim: records the result and hands the worker the next unit, in queue order; none left, no next', async () => {
  const { queue } = await queueWithRun('next');
  for (const n of [1, 2]) await queue.enqueue(unit(n));
  const first = (await queue.claim('w', Date.now(), 30_000))!;
  assert.is(first.payload.n, 1);
  const r = await queue.completeAndClaim({ id: first.id, worker: 'w', attempt: first.attempt }, 'one', Date.now(), 30_000);
  assert.ok(r.completed);
  assert.equal([r.next?.payload.n, r.next?.attempt], [2, 1]);
  const last = await queue.completeAndClaim({ id: r.next!.id, worker: 'w', attempt: 1 }, 'two', Date.now(), 30_000);
  assert.equal([last.completed, last.next], [true, undefined]);
  const units = await queue.units('r1');
  assert.equal(
    units.map((u) => [u.state, u.result, u.claimedBy]),
    [
      ['done', 'one', 'w'],
      ['done', 'two', 'w'],
    ],
  );
});

test('completeAndClaim with a lost claim: the result is dropped, the unit stays with its new holder, and the worker still gets the next', async () => {
  const { queue } = await queueWithRun('lost');
  for (const n of [1, 2]) await queue.enqueue(unit(n));
  const now = Date.now();
  const first = (await queue.claim('w1', now, 1_000))!;
  // w1 stalled past its claim; w2 took the unit over.
  const retaken = (await queue.claim('w2', now + 2_000, 30_000))!;
  assert.equal([retaken.id, retaken.attempt], [first.id, 2]);
  const r = await queue.completeAndClaim({ id: first.id, worker: 'w1', attempt: 1 }, 'stale', now + 2_100, 30_000);
  assert.not.ok(r.completed);
  assert.is(r.next?.payload.n, 2, 'the next unit, not the one being completed');
  const [u1] = await queue.units('r1');
  assert.equal([u1!.state, u1!.claimedBy, u1!.result], ['claimed', 'w2', null]);
});

test("completeAndClaim past the worker's own claim expiry (nobody took it over): recorded, and the next unit is another one", async () => {
  const { queue } = await queueWithRun('expired');
  for (const n of [1, 2]) await queue.enqueue(unit(n));
  const now = Date.now();
  const first = (await queue.claim('w', now, 1_000))!;
  // The unit is claimable again (its claim expired), but the statement completing it must not take it.
  const r = await queue.completeAndClaim({ id: first.id, worker: 'w', attempt: 1 }, 'late', now + 2_000, 30_000);
  assert.ok(r.completed);
  assert.is(r.next?.payload.n, 2);
  const [u1] = await queue.units('r1');
  assert.equal([u1!.state, u1!.result, u1!.attempts], ['done', 'late', 1]);
});

test('subscribe: a unit queued and a unit ended are announced with their state and run; a claim is not', async () => {
  const { queue } = await queueWithRun('notify');
  const heard: WorkUnitChange[] = [];
  const stop = await queue.subscribe((c) => heard.push(c));
  await queue.enqueue(unit(1));
  const c = (await queue.claim('w', Date.now(), 30_000))!;
  await queue.complete({ id: c.id, worker: 'w', attempt: c.attempt }, 'done', Date.now());
  for (let k = 0; k < 100 && heard.length < 2; k++) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100));
  await stop();
  assert.equal(heard, [
    { state: 'queued', runId: 'r1' },
    { state: 'done', runId: 'r1' },
  ]);
});

test.run();
