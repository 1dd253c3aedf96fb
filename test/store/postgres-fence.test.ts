// What only the PostgreSQL store does (SQLite has no worker mode): the fenced commit a worker
// makes with `leaseHolder`. It is one statement, record_materialization() locking and checking
// the lease itself (migration 7), so these tests pin what the four-round-trip version did: a
// holder commits; a holder whose lease was taken over, or released, records nothing at all;
// and a store migrated from schema 6 (the unfenced function) commits both ways.
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isRuntimeError, type AssetKey } from '../../runtime/index.ts';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';
import { openLineageStore } from '../../runtime/store/open-store.ts';
import { MIGRATIONS } from '../../runtime/store/postgres/schema.ts';
import { startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { materializationOf } from './fixtures/records.ts';

const A = 'example/readings' as AssetKey;
let cluster: PostgresCluster;
const opened: LineageStore[] = [];

async function withRun(label: string): Promise<{ store: LineageStore; url: string }> {
  const url = await cluster.createDatabase(label);
  const store = await openLineageStore(url);
  opened.push(store);
  await store.createRun({ id: 'r1', selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  return { store, url };
}

async function refusedAsLost(commit: Promise<number>, what: string): Promise<void> {
  await commit.then(
    () => assert.unreachable(`${what}: the commit was recorded`),
    (err: unknown) => {
      assert.ok(isRuntimeError(err, 'lease-lost'), `${what}: expected a lease-lost error, got ${String(err)}`);
      assert.match((err as Error).message, /example\/readings\[p\]: r1@w1#1 no longer holds its lease/);
    },
  );
}

test.before(async () => {
  cluster = await startPostgres();
});
test.after.each(async () => {
  for (const s of opened.splice(0)) await s.close();
});
test.after(() => cluster.stop());

test('a fenced commit by the lease holder is recorded and moves the current pointer', async () => {
  const { store } = await withRun('holder');
  const now = Date.now();
  assert.ok((await store.tryAcquireLease(A, 'p', 'r1@w1#1', now, 30_000)).acquired);
  const id = await store.commitMaterialization({ ...materializationOf(A, 'p', 'r1', 'aaaa'), leaseHolder: 'r1@w1#1' });
  assert.is((await store.current(A, 'p'))!.id, id);
  assert.equal(
    (await store.events('r1')).map((e) => e.type),
    ['log', 'step_materialized'],
  );
});

test('a holder whose lease expired and was taken over records nothing: not the version, its checks or its log events', async () => {
  const { store } = await withRun('taken');
  const now = Date.now();
  const good = await store.commitMaterialization(materializationOf(A, 'p', 'r1', 'good'));
  assert.ok((await store.tryAcquireLease(A, 'p', 'r1@w1#1', now, 1_000)).acquired);
  // The first worker was paused past its lease; a second claim of the unit took it over.
  assert.ok((await store.tryAcquireLease(A, 'p', 'r1@w2#2', now + 2_000, 30_000)).acquired);
  const events = (await store.events('r1')).length;
  await refusedAsLost(store.commitMaterialization({ ...materializationOf(A, 'p', 'r1', 'late'), leaseHolder: 'r1@w1#1' }), 'the taken-over holder');
  assert.is((await store.current(A, 'p'))!.id, good);
  assert.equal(
    (await store.history(A)).map((h) => h.id),
    [good],
  );
  assert.is((await store.events('r1')).length, events);
  // The worker that took it over commits.
  const id = await store.commitMaterialization({ ...materializationOf(A, 'p', 'r1', 'retry'), leaseHolder: 'r1@w2#2' });
  assert.is((await store.current(A, 'p'))!.id, id);
  assert.equal(await store.checkConsistency(), []);
});

test('a holder whose lease is gone (released, or its run closed) cannot commit', async () => {
  const { store } = await withRun('released');
  assert.ok((await store.tryAcquireLease(A, 'p', 'r1@w1#1', Date.now(), 30_000)).acquired);
  await store.releaseLease(A, 'p', 'r1@w1#1');
  await refusedAsLost(store.commitMaterialization({ ...materializationOf(A, 'p', 'r1', 'x'), leaseHolder: 'r1@w1#1' }), 'the released holder');
  assert.is(await store.current(A, 'p'), undefined);
});

test('a store at schema 6 (the unfenced record_materialization) is migrated: its versions stay, and commits work fenced and not', async () => {
  const url = await cluster.createDatabase('from5');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  for (const m of MIGRATIONS.filter((m) => m.version <= 6)) {
    await c.query(m.sql);
    await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
  }
  await c.query(`INSERT INTO runs (id, selection, status, trigger, host, pid, started_at, heartbeat_at) VALUES ('r1', '*', 'running', 'test', 'h', 1, 1, 1)`);
  // As a runtime of schema 6 committed: the 28-argument function.
  const { rows } = await c.query<{ id: string }>(
    `SELECT record_materialization($1, 'old', 'r1', 'published', '1', 'v0', NULL, '{}', 1, 1,
       '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}') AS id`,
    [A],
  );
  await c.end();
  const store = await openLineageStore(url);
  opened.push(store);
  assert.is((await store.current(A, 'old'))!.id, Number(rows[0]!.id));
  const plain = await store.commitMaterialization(materializationOf(A, 'q', 'r1', 'v1'));
  assert.is((await store.current(A, 'q'))!.id, plain);
  assert.ok((await store.tryAcquireLease(A, 'p', 'r1@w1#1', Date.now(), 30_000)).acquired);
  const fenced = await store.commitMaterialization({ ...materializationOf(A, 'p', 'r1', 'v2'), leaseHolder: 'r1@w1#1' });
  assert.is((await store.current(A, 'p'))!.id, fenced);
});

test.run();
