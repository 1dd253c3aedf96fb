// The automation part of the lineage store contract (contract.ts runs it on every store):
// ticks, cursors and run request claims, and that two handles (two daemons) claiming one
// dedupe key at once get it exactly once.
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';
import type { NewTick } from '../../runtime/store/tick-records.ts';

export function automationContract(
  t: Test,
  fresh: () => Promise<{ store: LineageStore; location: string }>,
  again: (location: string) => Promise<LineageStore>,
): void {
  const tick = (over: Partial<NewTick>): NewTick => ({
    daemonId: 'd1',
    startedAt: 1000,
    endedAt: 1010,
    kind: 'sensor',
    name: 'da_prices_posted',
    evaluated: ['2026-12-03'],
    requested: [{ selection: 'pjm/raw_prices', partitions: ['node=1;day=2026-12-03'], dedupeKey: 'k1', reason: 'posted', outcome: 'launched', runId: 'r1' }],
    skipped: [{ subject: 'x', reason: 'why not' }],
    cursor: '2026-12-03',
    error: null,
    ...over,
  });

  t('automation: ticks and cursors are recorded together and read back as written, newest first, by name and kind', async () => {
    const { store, location } = await fresh();
    assert.equal(await store.listTicks(), []);
    assert.equal(await store.automationCursors(), new Map());
    await store.recordTicks(
      [tick({}), tick({ kind: 'policy', name: 'automation', cursor: null, requested: [], error: 'boom "quoted"\u0000' })],
      [{ name: 'da_prices_posted', cursor: '2026-12-03', evaluatedAt: 1010 }],
    );
    await store.recordTicks(
      [tick({ startedAt: 2000, endedAt: 2001, requested: [], cursor: '2026-12-04' })],
      [{ name: 'da_prices_posted', cursor: '2026-12-04', evaluatedAt: 2001 }],
    );
    const other = await again(location);
    const all = await other.listTicks();
    assert.equal(
      all.map((x) => [x.kind, x.name, x.startedAt]),
      [
        ['sensor', 'da_prices_posted', 2000],
        ['policy', 'automation', 1000],
        ['sensor', 'da_prices_posted', 1000],
      ],
    );
    const { id: _id, ...first } = all[2]!;
    assert.equal(first, tick({}));
    assert.is(all[1]!.error, 'boom "quoted"\uFFFD');
    assert.equal(
      (await other.listTicks({ kind: 'policy' })).map((x) => x.name),
      ['automation'],
    );
    assert.equal(
      (await other.listTicks({ name: 'da_prices_posted', limit: 1 })).map((x) => x.cursor),
      ['2026-12-04'],
    );
    assert.equal(await other.automationCursors(), new Map([['da_prices_posted', { cursor: '2026-12-04', evaluatedAt: 2001 }]]));
  });

  t('automation: a dedupe key is claimed once; later claims learn who has it', async () => {
    const { store } = await fresh();
    assert.equal(await store.claimRunRequest('schedule:daily:2026-12-02T19:30:00.000Z', 'd1', 'r1', 5), { claimed: true });
    assert.equal(await store.claimRunRequest('schedule:daily:2026-12-02T19:30:00.000Z', 'd2', 'r2', 6), {
      claimed: false,
      daemonId: 'd1',
      runId: 'r1',
      claimedAt: 5,
    });
    assert.equal(await store.claimRunRequest('schedule:daily:2026-12-03T19:30:00.000Z', 'd2', 'r3', 7), { claimed: true });
  });

  t('automation: two daemons claiming the same keys at once each get a key exactly once', async () => {
    const { store, location } = await fresh();
    const b = await again(location);
    const keys = Array.from({ length: 40 }, (_, i) => `eager:a:${i}`);
    const results = await Promise.all(keys.flatMap((k) => [store.claimRunRequest(k, 'd1', `a-${k}`, 1), b.claimRunRequest(k, 'd2', `b-${k}`, 1)]));
    for (let i = 0; i < keys.length; i++) {
      const won = [results[2 * i]!, results[2 * i + 1]!].filter((r) => r.claimed).length;
      assert.is(won, 1, keys[i]);
    }
  });

  t('automation: prune removes ticks, claims and ended queue rows older than the cutoff, never cursors or queued runs', async () => {
    const { store } = await fresh();
    await store.recordTicks(
      [tick({ startedAt: 100, endedAt: 110 }), tick({ startedAt: 5000, endedAt: 5010 })],
      [{ name: 'da_prices_posted', cursor: 'c', evaluatedAt: 110 }],
    );
    await store.claimRunRequest('old', 'd1', 'r-old', 100);
    await store.claimRunRequest('new', 'd1', 'r-new', 5000);
    const q = (runId: string, enqueuedAt: number) =>
      store.enqueueRun({ runId, selection: 'a', partitions: null, force: false, trigger: 'api', pools: [], enqueuedAt });
    await q('q-ended', 100);
    await q('q-waiting', 100);
    await q('q-new', 5000);
    await store.cancelQueuedRun('q-ended');
    await store.cancelQueuedRun('q-new');
    assert.equal(await store.pruneAutomation(1000, { dryRun: true }), { ticks: 1, claims: 1, queueRows: 1 });
    assert.is((await store.listTicks()).length, 2, 'a dry run deletes nothing');
    assert.equal(await store.pruneAutomation(1000, { dryRun: false }), { ticks: 1, claims: 1, queueRows: 1 });
    assert.equal(
      (await store.listTicks()).map((x) => x.endedAt),
      [5010],
    );
    assert.equal(await store.claimRunRequest('old', 'd2', 'r-again', 6000), { claimed: true }, 'a pruned claim can be claimed again');
    assert.equal(await store.claimRunRequest('new', 'd2', 'r-x', 6000), { claimed: false, daemonId: 'd1', runId: 'r-new', claimedAt: 5000 });
    assert.equal(
      (await store.runQueue({ states: ['queued', 'canceled'] })).map((r) => r.runId),
      ['q-waiting', 'q-new'],
    );
    assert.equal(await store.automationCursors(), new Map([['da_prices_posted', { cursor: 'c', evaluatedAt: 110 }]]));
  });
}
