// Crash safety and concurrency, with real processes, on both stores (the SQLite file under
// the data directory, and a real PostgreSQL through LINEAGE_STORE): a materialization killed
// with SIGKILL leaves the previous version current and the store intact, and two processes
// materializing one store at once do no duplicate work and never fail with "database is
// locked". The test reads the store through its interface, as every other process does.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AssetKey } from '../../runtime/keys.ts';
import type { LineageStore } from '../../runtime/store/lineage-store-api.ts';
import { openLineageStore, sqliteStorePath } from '../../runtime/store/open-store.ts';
import { runCli, startCli } from '../support/cli.ts';
import { startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { tempDir } from '../support/tmp.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';

/** One data directory and its store: the env the CLI runs with, and where the test opens it. */
interface StoreUnderTest {
  readonly dir: string;
  readonly env: Record<string, string>;
  readonly location: string;
}

function crashSuite(name: string, setup: () => Promise<{ fresh(label: string): Promise<StoreUnderTest>; teardown(): Promise<void> }>): void {
  const s = suite(`crash and concurrency (${name})`);
  let ctx: Awaited<ReturnType<typeof setup>>;
  s.before(async () => {
    ctx = await setup();
  });
  s.after(async () => ctx.teardown());

  /** Every current pointer as `asset[partition] -> id`, sorted. */
  const currents = async (store: LineageStore): Promise<{ key: string; id: number; location: string }[]> =>
    [...(await store.snapshot())]
      .flatMap(([asset, byPartition]) => [...byPartition].map(([p, c]) => ({ key: `${asset}[${p}]`, id: c.id, location: c.location })))
      .sort((a, b) => (a.key < b.key ? -1 : 1));

  s('SIGKILL mid-materialization: previous version still current, store consistent, rerun completes', async () => {
    const t = await ctx.fresh('crash');
    const args = ['--definitions', DEFS, '--data-dir', t.dir];
    assert.is((await runCli(args, t.env)).code, 0);
    let store = await openLineageStore(t.location);
    const before = await currents(store);
    await store.close();

    const { child, done } = startCli([...args, 'example/readings', '--force', '--json'], { ...t.env, EXAMPLE_SLOW_MS: '400', EXAMPLE_SCALE: '3' });
    await new Promise<void>((resolve) => {
      let seen = 0;
      child.stdout!.on('data', (d: Buffer) => {
        seen += (d.toString().match(/"step_materialized"/g) ?? []).length;
        // Kill once some partitions have committed and others are in flight.
        if (seen >= 2) resolve();
      });
    });
    child.kill('SIGKILL');
    const killed = await done;
    assert.is(killed.signal, 'SIGKILL');

    store = await openLineageStore(t.location);
    assert.equal(await store.checkConsistency(), [], 'every current pointer names a published materialization with a file');
    const [run] = await store.listRuns({ limit: 1 });
    assert.is(run?.status, 'running', 'the killed run could not record its own end');
    // Partitions that were not committed still point at their previous version.
    const after = await currents(store);
    assert.is(after.length, before.length);
    const changed = after.filter((r, k) => r.id !== before[k]!.id).length;
    assert.ok(changed >= 2 && changed < 10, `${changed} partitions were replaced before the kill`);
    await store.close();

    const rerun = await runCli([...args, '--json'], { ...t.env, EXAMPLE_SCALE: '3' });
    assert.is(rerun.code, 0, rerun.stderr);
    const status = JSON.parse((await runCli([...args, 'status', '--json'], { ...t.env, EXAMPLE_SCALE: '3' })).stdout);
    assert.equal(
      status.map((x: { status: string }) => x.status),
      ['FRESH', 'FRESH', 'FRESH', 'FRESH'],
    );
    const runs = JSON.parse((await runCli([...args, 'runs', '--json'], t.env)).stdout) as { status: string; error: string }[];
    const abandoned = runs.find((r) => r.status === 'failed');
    assert.ok(abandoned, 'the killed run is closed as failed by the next process');
    assert.match(abandoned!.error, /stopped without finishing/);
  });

  s('two processes materializing one store at once: no duplicate work, no lock errors', async () => {
    const t = await ctx.fresh('concurrent');
    const args = ['--definitions', DEFS, '--data-dir', t.dir, '--json'];
    // Slow enough that the second process (its start-up takes seconds on a loaded machine) meets the first.
    const env = { ...t.env, EXAMPLE_SLOW_MS: '600' };
    // Start the second process once the first is materializing, so they surely overlap.
    const first = startCli(args, env);
    await new Promise<void>((resolve) => first.child.stdout!.on('data', (d: Buffer) => /"step_started"/.test(d.toString()) && resolve()));
    const [a, b] = await Promise.all([first.done, runCli(args, env)]);
    assert.is(a.code, 0, a.stderr);
    assert.is(b.code, 0, b.stderr);
    assert.not.match(a.stderr + b.stderr, /locked|SQLITE_BUSY|deadlock/);
    const store = await openLineageStore(t.location);
    const perPartition = new Map<string, number>();
    for (const asset of (await store.snapshot()).keys()) {
      for (const m of await store.history(asset as AssetKey, { limit: 10_000 }))
        perPartition.set(`${m.asset}[${m.partition}]`, (perPartition.get(`${m.asset}[${m.partition}]`) ?? 0) + 1);
    }
    await store.close();
    assert.is(perPartition.size, 22);
    assert.ok(
      [...perPartition.values()].every((n) => n === 1),
      'each asset partition was materialized exactly once',
    );
    const skipped = (a.stdout + b.stdout).match(/materialized meanwhile by run|"step_waiting"/g) ?? [];
    assert.ok(skipped.length > 0, 'the processes met and one deferred to the other');
  });

  s.run();
}

crashSuite('SQLite', async () => ({
  async fresh(label) {
    const dir = tempDir(label);
    return { dir, env: {}, location: sqliteStorePath(dir) };
  },
  teardown: async () => undefined,
}));

crashSuite('PostgreSQL', async () => {
  const cluster: PostgresCluster = await startPostgres();
  return {
    async fresh(label) {
      const url = await cluster.createDatabase(label);
      return { dir: tempDir(label), env: { LINEAGE_STORE: url }, location: url };
    },
    teardown: async () => cluster.stop(),
  };
});
