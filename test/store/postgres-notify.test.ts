// What only the PostgreSQL store does: it announces a commit after the commit, from a
// transaction of its own (runtime/store/postgres/notifier.ts). A transaction that NOTIFYs holds
// the cluster's one notification lock until its WAL flush, so a NOTIFY inside the commit made
// every committer wait for the previous one's flush. These tests pin both halves: the commit's
// own statement sends nothing; the store still announces every commit, and every other write,
// before close() returns.
import pg from 'pg';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AssetKey } from '../../runtime/index.ts';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';
import { openLineageStore } from '../../runtime/store/open-store.ts';
import { startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { materializationOf } from './fixtures/records.ts';

const A = 'example/readings' as AssetKey;
let cluster: PostgresCluster;
const clients: pg.Client[] = [];
const opened: LineageStore[] = [];

/** A raw connection LISTENing on the store's channel, and what it heard, parsed. */
async function listener(url: string): Promise<{ heard: unknown[]; sync: () => Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  clients.push(c);
  await c.connect();
  const heard: unknown[] = [];
  c.on('notification', (n) => heard.push(JSON.parse(n.payload!)));
  await c.query('LISTEN lineage_store');
  // A notification committed before this query is delivered before its reply.
  return { heard, sync: async () => void (await c.query('SELECT 1')) };
}

test.before(async () => {
  cluster = await startPostgres();
});
test.after.each(async () => {
  for (const s of opened.splice(0)) await s.close();
  for (const c of clients.splice(0)) await c.end();
});
test.after(() => cluster.stop());

test("record_materialization()'s own transaction sends no notification: it never takes the notification lock", async () => {
  const url = await cluster.createDatabase('raw');
  opened.push(await openLineageStore(url));
  const { heard, sync } = await listener(url);
  const raw = new pg.Client({ connectionString: url });
  clients.push(raw);
  await raw.connect();
  await raw.query(`INSERT INTO runs (id, selection, status, trigger, host, pid, started_at, heartbeat_at) VALUES ('r1', '*', 'running', 'test', 'h', 1, 1, 1)`);
  const { rows } = await raw.query<{ id: string }>(
    `SELECT record_materialization($1, 'p', 'r1', 'published', '1', 'v0', NULL, '{}', 1, 1,
       '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', NULL) AS id`,
    [A],
  );
  assert.ok(Number(rows[0]!.id) > 0, 'the call recorded a version');
  await sync();
  assert.equal(heard, [], 'nothing heard from the call itself');
});

test('the store announces each commit and each other write once it has committed, all sent before close() returns', async () => {
  const url = await cluster.createDatabase('store');
  const store = await openLineageStore(url);
  const { heard, sync } = await listener(url);
  await store.createRun({ id: 'r1', selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  const partitionOf = new Map<number, string>();
  // Concurrent commits: changes queued while a batch is in flight go out in the next one.
  await Promise.all(
    Array.from({ length: 20 }, async (_, k) => partitionOf.set(await store.commitMaterialization(materializationOf(A, `p${k}`, 'r1', `v${k}`)), `p${k}`)),
  );
  await store.finishRun('r1', 'succeeded', {}, null, Date.now());
  await store.close();
  await sync();
  const changes = heard as { kind: string; id?: number }[];
  const byId = (a: { id?: number }, b: { id?: number }) => a.id! - b.id!;
  assert.equal(
    changes.filter((c) => c.kind === 'materialization').sort(byId),
    [...partitionOf].map(([id, partition]) => ({ kind: 'materialization', id, asset: A, partition, runId: 'r1', status: 'published' })).sort(byId),
    'one materialization change per commit, naming it',
  );
  assert.ok(
    changes.some((c) => c.kind === 'activity'),
    'the run started and ended: activity',
  );
  assert.equal(changes.at(-1), { kind: 'activity' }, 'the run ended after its commits, and is announced after them');
});

test.run();
