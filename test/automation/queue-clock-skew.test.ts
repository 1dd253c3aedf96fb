// Two hosts whose clocks disagree by more than the 90 s a silent queued row is given: one runs
// 5 minutes slow, the other 5 minutes fast (their RunQueues' clocks skewed). The slow host's
// run waits its turn behind the fast host's; the fast host's next claim must not take it for
// dead, since heartbeats are stamped and judged by the store's clock (PostgreSQL's now(),
// SQLite's), not by either host's. On both stores: a real SQLite file and a throwaway cluster.
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, defineAsset, defineDefinitions, openLineageStore, prepareRun, type AssetDefinition } from '../../runtime/index.ts';
import { RunQueue } from '../../runtime/queue/run-queue.ts';
import { runQueueSettingsFromEnv } from '../../runtime/settings.ts';
import { execOn, startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { tempDir } from '../support/tmp.ts';

const SKEW_MS = 5 * 60_000;
const test = suite('run queue across hosts with skewed clocks');
let cluster: PostgresCluster;

test.before(async () => {
  cluster = await startPostgres();
});
test.after(() => cluster.stop());

function defs() {
  // a runs long enough for b to be queued behind it even on a loaded machine (CI's two cores).
  const slow = (key: string, ms: number) =>
    defineAsset({
      key,
      codeVersion: '1',
      materialize: async () => {
        await sleep(ms);
        return { value: key };
      },
    });
  return defineDefinitions({ assets: [slow('a', 1_500), slow('b', 300), slow('c', 300)] as AssetDefinition<unknown>[] });
}

const run = async (queue: RunQueue, instance: Instance<unknown>, selection: string) => {
  const req = { selection, force: true, trigger: 'api' as const };
  return queue.run(await prepareRun(instance, req), req, { onWaiting: () => undefined });
};

interface Backend {
  readonly name: string;
  /** Where a new store is (a file path or a URL). */
  location(label: string): Promise<string>;
  /** One SQL statement on the store, as another process would write it. */
  exec(location: string, sql: string): Promise<void>;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'SQLite',
    location: async (label) => `${tempDir(`skew-${label}`)}/lineage.sqlite`,
    async exec(path, sql) {
      const db = new Database(path, { timeout: 10_000 });
      db.exec(sql);
      db.close();
    },
  },
  {
    name: 'PostgreSQL',
    location: (label) => cluster.createDatabase(label),
    exec: execOn,
  },
];

for (const backend of BACKENDS) {
  test(`${backend.name}: a host 5 min fast claiming never cancels the waiting run of a host 5 min slow; every run runs in order`, async () => {
    const location = await backend.location(backend.name.toLowerCase());
    const open = async () => Instance.open(defs(), { dataDir: tempDir('skew-data'), store: await openLineageStore(location) });
    const [fastHost, slowHost] = [await open(), await open()];
    try {
      const limits = runQueueSettingsFromEnv({ RUN_QUEUE_MAX_CONCURRENT: '1' });
      const fast = new RunQueue(fastHost, limits, { pollMs: 40, heartbeatMs: 100, clock: () => Date.now() + SKEW_MS });
      const slow = new RunQueue(slowHost, limits, { pollMs: 40, heartbeatMs: 100, clock: () => Date.now() - SKEW_MS });
      const first = run(fast, fastHost, 'a');
      await sleep(50);
      const second = run(slow, slowHost, 'b');
      let queued: { runId: string; enqueuedAt: number } | undefined;
      for (let i = 0; i < 250 && !queued; i++, await sleep(20)) queued = (await fastHost.store.runQueue({ states: ['queued'] }))[0];
      assert.ok(queued, 'b was queued');
      // The slow host's clock dates the row; it is shown, never judged.
      assert.ok(queued.enqueuedAt < Date.now() - SKEW_MS + 5_000, `enqueuedAt ${queued.enqueuedAt} by the slow clock`);
      // The slow host is another machine: its row is judged by its heartbeat (this host would look at its process).
      await backend.exec(location, `UPDATE run_queue SET owner_host = 'slow-host.example' WHERE run_id = '${queued.runId}'`);
      // The fast host queues another run: its claims look at b's row while b waits.
      const third = run(fast, fastHost, 'c');
      const outcomes = await Promise.all([first, second, third]);
      assert.equal(
        outcomes.map((o) => (o.kind === 'ran' ? o.result.status : `${o.kind}: ${o.reason}`)),
        ['succeeded', 'succeeded', 'succeeded'],
      );
      const rows = await fastHost.store.runQueue({ states: ['finished', 'canceled'] });
      assert.equal(
        rows.map((r) => [r.selection, r.state, r.cancelReason]),
        [
          ['a', 'finished', null],
          ['b', 'finished', null],
          ['c', 'finished', null],
        ],
      );
    } finally {
      await fastHost.close();
      await slowHost.close();
    }
  });
}

test.run();
