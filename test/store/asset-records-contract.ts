// The asset records part of the lineage store contract (contract.ts runs it on every store):
// kept once per (namespace, key), the first write winning; read by partition range, list or
// key, in partition or newest-first order; counted; pruned by age; JSON payloads read back as
// written; visible to another handle (another process) at once.
import * as assert from 'uvu/assert';
import type { Test } from 'uvu';
import type { NewAssetRecord } from '../../runtime/store/asset-records.ts';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';

/** Awaits `promise`, which must reject with a message matching `pattern`. */
async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await promise.then(
    () => assert.unreachable(`expected a rejection matching ${pattern}`),
    (err: Error) => assert.match(err.message, pattern),
  );
}

export function assetRecordsContract(
  t: Test,
  fresh: () => Promise<{ store: LineageStore; location: string }>,
  again: (location: string) => Promise<LineageStore>,
): void {
  const rec = (
    key: string,
    partition: string | null,
    recordedAt: number,
    payload: NewAssetRecord['payload'] = { key },
    namespace = 'pjm/served',
  ): NewAssetRecord => ({
    namespace,
    key,
    partition,
    recordedAt,
    payload,
  });

  t('asset records: kept once per namespace and key, the first write winning; another handle reads them at once', async () => {
    const { store, location } = await fresh();
    assert.is(await store.addAssetRecords([rec('a', '2025-05-02', 10, { v: 1 }), rec('b', '2025-05-01', 20), rec('a', '2025-05-02', 30, { v: 2 })]), 2);
    assert.is(await store.addAssetRecords([rec('a', '2025-05-09', 40, { v: 3 }), rec('c', null, 50)]), 1);
    // The same key in another namespace is another record.
    assert.is(await store.addAssetRecords([rec('a', '2025-05-02', 60, { other: true }, 'example/notes')]), 1);
    assert.is(await store.addAssetRecords([]), 0);
    const other = await again(location);
    assert.equal(await other.assetRecords({ namespace: 'pjm/served', keys: ['a'] }), [
      { namespace: 'pjm/served', key: 'a', partition: '2025-05-02', recordedAt: 10, payload: { v: 1 } },
    ]);
    assert.is(await other.countAssetRecords({ namespace: 'pjm/served' }), 3);
    assert.is(await other.countAssetRecords({ namespace: 'example/notes' }), 1);
    assert.is(await other.countAssetRecords({ namespace: 'nobody' }), 0);
  });

  t('asset records: read by partition range, list or keys, by partition then time, or newest first with a limit; counted alike', async () => {
    const { store } = await fresh();
    await store.addAssetRecords([
      rec('n1|2025-05-01', '2025-05-01', 300),
      rec('n2|2025-05-01', '2025-05-01', 100),
      rec('n1|2025-05-02', '2025-05-02', 200),
      rec('n1|2025-05-10', '2025-05-10', 50),
      rec('n1|2025-04-30', '2025-04-30', 400),
      rec('undated', null, 500),
    ]);
    const keys = (rs: { key: string }[]) => rs.map((r) => r.key);
    // A range of ISO days compares as text: 2025-05-10 is inside 05-01..05-10, 04-30 is not.
    assert.equal(keys(await store.assetRecords({ namespace: 'pjm/served', partitions: { from: '2025-05-01', to: '2025-05-10' } })), [
      'n2|2025-05-01',
      'n1|2025-05-01',
      'n1|2025-05-02',
      'n1|2025-05-10',
    ]);
    assert.equal(keys(await store.assetRecords({ namespace: 'pjm/served', partitions: ['2025-05-02', '2025-04-30'] })), ['n1|2025-04-30', 'n1|2025-05-02']);
    assert.equal(keys(await store.assetRecords({ namespace: 'pjm/served', partitions: [] })), []);
    assert.equal(keys(await store.assetRecords({ namespace: 'pjm/served', keys: ['undated', 'n2|2025-05-01', 'missing'] })), ['n2|2025-05-01', 'undated']);
    assert.equal(keys(await store.assetRecords({ namespace: 'pjm/served', order: 'newest', limit: 3 })), ['undated', 'n1|2025-04-30', 'n1|2025-05-01']);
    assert.is(await store.countAssetRecords({ namespace: 'pjm/served', partitions: { from: '2025-05-01', to: '2025-05-02' } }), 3);
    assert.is(await store.countAssetRecords({ namespace: 'pjm/served', keys: ['undated', 'missing'] }), 1);
    await rejects(store.assetRecords({ namespace: 'pjm/served', limit: -1 }), /assetRecords: limit must be a whole number/);
  });

  t('asset records: a JSON payload reads back as written (nesting, unicode, a NUL, numbers); a record without a key is refused', async () => {
    const { store } = await fresh();
    const payload = {
      hours: [{ hour: 0, value: -12.5, quantiles: null }],
      note: 'prix en €, 日本, nul:\u0000.',
      big: 2 ** 52,
      nested: { a: [true, false, null] },
    };
    await store.addAssetRecords([rec('k', '2025-05-01', 1, payload), rec('s', '2025-05-01', 2, 'just text'), rec('n', '2025-05-01', 3, 42)]);
    assert.equal(
      (await store.assetRecords({ namespace: 'pjm/served' })).map((r) => r.payload),
      [payload, 'just text', 42],
    );
    await rejects(
      store.addAssetRecords([rec('fine', '2025-05-01', 1), rec('', '2025-05-01', 1)]),
      /addAssetRecords: record "" of "pjm\/served": key must be a non-empty string/,
    );
    await rejects(store.addAssetRecords([rec('x', '2025-05-01', Number.NaN)]), /addAssetRecords: recordedAt must be a whole number/);
    assert.is(await store.countAssetRecords({ namespace: 'pjm/served' }), 3, 'a refused batch writes nothing');
  });

  t('asset records: pruned by age across namespaces (a dry run only counts); younger ones stay', async () => {
    const { store } = await fresh();
    await store.addAssetRecords([rec('old', '2025-01-01', 1_000), rec('old2', null, 1_999, {}, 'example/notes'), rec('young', '2025-05-01', 2_000)]);
    assert.is(await store.pruneAssetRecords(2_000, { dryRun: true }), 2);
    assert.is(await store.countAssetRecords({ namespace: 'pjm/served' }), 2);
    assert.is(await store.pruneAssetRecords(2_000, { dryRun: false }), 2);
    assert.equal(
      (await store.assetRecords({ namespace: 'pjm/served' })).map((r) => r.key),
      ['young'],
    );
    assert.is(await store.countAssetRecords({ namespace: 'example/notes' }), 0);
    // A pruned key may be kept again.
    assert.is(await store.addAssetRecords([rec('old', '2025-01-01', 3_000)]), 1);
  });
}
