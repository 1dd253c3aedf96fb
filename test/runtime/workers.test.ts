// The worker-pool executor on a real PostgreSQL, with real processes started from the CLI as a
// user would: `materialize --executor workers` coordinates, `materialize worker` processes run
// the steps. Every step runs exactly once and the work spreads over the workers; a worker
// killed with SIGKILL mid-step leaves the previous version current until another worker
// finishes the step, committed once; two coordinators at once do no duplicate work; and the
// SQLite store refuses worker mode with the setting to fix.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import type { AssetKey, PartitionKey } from '../../runtime/keys.ts';
import { openLineageStore } from '../../runtime/store/open-store.ts';
import { PostgresWorkQueue } from '../../runtime/store/postgres/work-queue.ts';
import { runCli, startCli, type CliResult } from '../support/cli.ts';
import { startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { tempDir } from '../support/tmp.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';
const READINGS = 'example/readings' as AssetKey;
const P1 = '2024-01-01' as PartitionKey;
const test = suite('worker pool executor (PostgreSQL)');
let cluster: PostgresCluster;

test.before(async () => {
  cluster = await startPostgres();
});
test.after(() => cluster.stop());

interface Pool {
  readonly env: Record<string, string>;
  readonly args: string[];
  readonly workers: { child: ChildProcess; done: Promise<CliResult> }[];
  stopWorkers(): Promise<CliResult[]>;
}

async function pool(label: string, n: number, env: Record<string, string> = {}): Promise<Pool> {
  const dir = tempDir(`workers-${label}`);
  const url = await cluster.createDatabase(label);
  const fullEnv = { LINEAGE_STORE: url, WORKER_LEASE_MS: '1500', ...env };
  const args = ['--definitions', DEFS, '--data-dir', dir];
  // Migrate once before the workers start (they would race harmlessly, but the test should not wait on it).
  await (await openLineageStore(url)).close();
  const workers = Array.from({ length: n }, () => startCli([...args, 'worker'], fullEnv));
  return {
    env: fullEnv,
    args,
    workers,
    async stopWorkers() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      return Promise.all(workers.map((w) => w.done));
    },
  };
}

/** `promise`, or a failure naming what did not happen within `ms` (a hang fails the test, not the whole file's time budget). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves to the first JSON event line of `child`'s stdout that `pick` maps to a value. */
function firstEvent<T>(child: ChildProcess, pick: (e: Record<string, unknown>) => T | undefined): Promise<T> {
  return new Promise((resolve) => {
    let buffered = '';
    const onData = (d: Buffer): void => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const value = line.trim() ? pick(JSON.parse(line) as Record<string, unknown>) : undefined;
        if (value === undefined) continue;
        child.stdout!.off('data', onData);
        resolve(value);
        return;
      }
    };
    child.stdout!.on('data', onData);
  });
}

/** Which worker (host:pid) started each step, from the run's events. */
async function startedBy(url: string, runId: string): Promise<Map<string, string[]>> {
  const store = await openLineageStore(url);
  try {
    const out = new Map<string, string[]>();
    for (const e of await store.events(runId, { types: ['step_started'] })) {
      const w = e.data?.worker as { host: string; pid: number } | undefined;
      const key = `${e.asset}[${e.partition}]`;
      out.set(key, [...(out.get(key) ?? []), w ? `${w.host}:${w.pid}` : 'in-process']);
    }
    return out;
  } finally {
    await store.close();
  }
}

test('3 workers backfill 300 partitions: every step exactly once, spread over the workers, the same summary as in-process', async () => {
  // A lease long enough that a worker starved of CPU on a busy machine keeps its claims: this
  // test counts starts, and an expired claim is (rightly) run again. The kill test uses 1.5 s.
  const p = await pool('backfill', 3, { EXAMPLE_END: '2024-10-26', WORKER_LEASE_MS: '10000' });
  try {
    const r = await runCli([...p.args, 'example/readings', '--executor', 'workers', '--json'], p.env);
    assert.is(r.code, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; runId: string; partition?: string; counts?: { materialized: number } });
    const finished = events.find((e) => e.type === 'run_finished');
    assert.is(finished?.counts?.materialized, 300, 'run_finished counts every partition');
    // The coordinator relays the workers' events from the store: each one once, none lost.
    const announced = events.filter((e) => e.type === 'step_materialized').map((e) => e.partition);
    assert.is(announced.length, 300, "every step_materialized reaches the coordinator's output");
    assert.is(new Set(announced).size, 300, 'and none twice');
    assert.is(events.at(-1)?.type, 'run_finished', 'run_finished comes last');
    const runId = finished!.runId;
    const started = await startedBy(p.env.LINEAGE_STORE!, runId);
    assert.is(started.size, 300);
    assert.ok(
      [...started.values()].every((w) => w.length === 1),
      'no step started twice',
    );
    const perWorker = new Map<string, number>();
    for (const [w] of started.values()) perWorker.set(w!, (perWorker.get(w!) ?? 0) + 1);
    assert.ok(perWorker.size >= 2, `work spread over ${perWorker.size} worker(s): ${[...perWorker].join(', ')}`);
    assert.ok(![...perWorker.keys()].includes('in-process'));
    const store = await openLineageStore(p.env.LINEAGE_STORE!);
    assert.is((await store.materializationsOfRun(runId)).length, 300, 'one commit per partition');
    assert.equal(await store.checkConsistency(), []);
    const shown = await runCli([...p.args, 'show-run', runId], p.env);
    assert.match(shown.stdout, /started on worker [^\s]+:\d+/, 'show-run names the worker');
    await store.close();
  } finally {
    const ends = await within(30_000, 'the workers to drain', p.stopWorkers());
    for (const e of ends) assert.is(e.code, 0, `a worker drains and exits 0 on SIGTERM: ${e.stderr}`);
  }
});

test('a worker SIGKILLed mid-step: the previous version stays current, another worker finishes it, one commit', async () => {
  // Every step sleeps 2.5 s in the workers (they run the code, so the setting is theirs).
  const p = await pool('kill', 2, { EXAMPLE_END: '2024-01-01', EXAMPLE_SLOW_MS: '2500' });
  try {
    const first = await within(60_000, 'the first run', runCli([...p.args, 'example/readings', '--executor', 'workers'], p.env));
    assert.is(first.code, 0, first.stderr);
    let store = await openLineageStore(p.env.LINEAGE_STORE!);
    const before = await store.current(READINGS, P1);
    assert.ok(before);
    // The coordinator relays the workers' events as they are recorded: kill whichever worker started the step.
    const coordinator = startCli([...p.args, 'example/readings', '--force', '--executor', 'workers', '--json'], p.env);
    const victim = await within(
      30_000,
      'a step_started event naming its worker',
      firstEvent(coordinator.child, (e) => (e.type === 'step_started' ? (e.worker as { pid: number } | undefined)?.pid : undefined)),
    );
    const killed = p.workers.find((w) => w.child.pid === victim);
    assert.ok(killed, `step_started names worker pid ${victim}, one of ours`);
    killed.child.kill('SIGKILL');
    assert.is((await within(10_000, 'the killed worker to exit', killed.done)).signal, 'SIGKILL');
    const during = await store.current(READINGS, P1);
    assert.is(during?.id, before.id, 'the previous version is still current while the step is retried');
    const r = await within(60_000, 'the coordinator to end after the retry', coordinator.done);
    assert.is(r.code, 0, r.stderr);
    const runId = (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { runId: string }).runId;
    const commits = await store.materializationsOfRun(runId);
    assert.is(commits.length, 1, 'committed once');
    const started = (await startedBy(p.env.LINEAGE_STORE!, runId)).get('example/readings[2024-01-01]')!;
    assert.is(started.length, 2, 'started by the killed worker, then by the other');
    assert.is(started[0], `${started[0]!.split(':')[0]}:${victim}`, 'first by the killed worker');
    assert.is.not(started[0], started[1]);
    assert.is((await store.current(READINGS, P1))?.id, commits[0]!.id);
    await store.close();
    store = await openLineageStore(p.env.LINEAGE_STORE!);
    assert.equal(await store.checkConsistency(), []);
    await store.close();
  } finally {
    await within(30_000, 'the workers to drain', p.stopWorkers());
  }
});

test('two coordinators at once on one store: no partition materialized twice', async () => {
  const p = await pool('two', 3, { EXAMPLE_END: '2024-01-30', EXAMPLE_SLOW_MS: '50' });
  try {
    const [a, b] = await within(
      120_000,
      'both coordinators to end',
      Promise.all([
        runCli([...p.args, 'example/readings', '--executor', 'workers'], p.env),
        runCli([...p.args, 'example/readings', '--executor', 'workers'], p.env),
      ]),
    );
    assert.is(a.code, 0, a.stderr);
    assert.is(b.code, 0, b.stderr);
    const store = await openLineageStore(p.env.LINEAGE_STORE!);
    const history = await store.history(READINGS, { limit: 1000 });
    assert.is(history.length, 30, 'each partition committed once across both runs');
    assert.is(new Set(history.map((h) => h.partition)).size, 30);
    await store.close();
  } finally {
    await within(30_000, 'the workers to drain', p.stopWorkers());
  }
});

/** Polls `probe` until it returns a value (not undefined), failing after `ms` with `what`. */
async function eventually<T>(ms: number, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a coordinator and resolves once its run has a unit in the queue. */
async function coordinatorWithQueuedUnit(p: Pool, env: Record<string, string>): Promise<{ run: ReturnType<typeof startCli>; runId: string }> {
  const run = startCli([...p.args, 'example/readings', '--executor', 'workers', '--json'], { ...p.env, ...env });
  const runId = await within(
    30_000,
    'run_started',
    firstEvent(run.child, (e) => (e.type === 'run_started' ? (e.runId as string) : undefined)),
  );
  const queue = PostgresWorkQueue.open(p.env.LINEAGE_STORE!);
  try {
    await eventually(15_000, `a queued unit of run ${runId}`, async () => ((await queue.units(runId)).length > 0 ? true : undefined));
  } finally {
    await queue.close();
  }
  return { run, runId };
}

test('a unit whose pool another run holds: its steps fail after WORKER_POOL_WAIT_S, saying which setting and what to do', async () => {
  const p = await pool('poolwait', 0, { EXAMPLE_END: '2024-01-02', EXAMPLE_POOL: 'gpu' });
  // No worker: the first coordinator's unit stays queued, holding pool "gpu".
  const holder = await coordinatorWithQueuedUnit(p, {});
  try {
    const started = Date.now();
    const r = await within(
      30_000,
      'the waiting coordinator to give up',
      runCli([...p.args, 'example/readings', '--executor', 'workers'], { ...p.env, WORKER_POOL_WAIT_S: '1' }),
    );
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /pool "gpu" stayed busy with another run's unit for \d+ s \(WORKER_POOL_WAIT_S=1\)/);
    assert.match(r.stderr, /materialize runs/);
    assert.ok(Date.now() - started < 20_000, 'it gave up after about a second per unit');
  } finally {
    holder.run.child.kill('SIGTERM');
    assert.is((await within(15_000, 'the holding coordinator to cancel', holder.run.done)).code, 1);
  }
});

test('a coordinator SIGKILLed with units queued: a worker closes its run and cancels them, their pool frees, the next run completes', async () => {
  const p = await pool('orphans', 0, { EXAMPLE_END: '2024-01-02', EXAMPLE_POOL: 'gpu' });
  const dead = await coordinatorWithQueuedUnit(p, {});
  dead.run.child.kill('SIGKILL');
  await within(10_000, 'the coordinator to die', dead.run.done);
  // A worker started now finds the run's process gone (same host), closes it, cancels its units.
  const worker = startCli([...p.args, 'worker'], p.env);
  const store = await openLineageStore(p.env.LINEAGE_STORE!);
  const queue = PostgresWorkQueue.open(p.env.LINEAGE_STORE!);
  try {
    const units = await eventually(20_000, "the dead run's units canceled", async () => {
      const us = await queue.units(dead.runId);
      return us.every((u) => u.state === 'canceled') ? us : undefined;
    });
    assert.match(units[0]!.error ?? '', /its coordinator stopped/);
    assert.is((await store.getRun(dead.runId))?.status, 'failed');
    const next = await within(60_000, 'the next run', runCli([...p.args, 'example/readings', '--executor', 'workers', '--json'], p.env));
    assert.is(next.code, 0, next.stderr);
    assert.match(next.stdout, /"materialized":2/);
  } finally {
    await queue.close();
    await store.close();
    worker.child.kill('SIGTERM');
    assert.is((await within(30_000, 'the worker to drain', worker.done)).code, 0);
  }
});

test('`materialize tick` with EXECUTOR=workers (the CronJob coordinator): the runs automation requests run on the workers', async () => {
  const p = await pool('tick', 2, { EXAMPLE_END: '2024-01-04', EXAMPLE_AUTOMATION: 'missing' });
  try {
    const r = await within(60_000, 'the tick', runCli([...p.args, 'tick', '--json'], { ...p.env, EXECUTOR: 'workers' }));
    assert.is(r.code, 0, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: { runId: string; counts: { materialized: number } }[] };
    assert.is(
      runs.reduce((n, x) => n + x.counts.materialized, 0),
      4,
      'the missing policy materialized the four partitions',
    );
    const pids = new Set(p.workers.map((w) => String(w.child.pid)));
    for (const run of runs) {
      for (const [step, by] of await startedBy(p.env.LINEAGE_STORE!, run.runId)) {
        for (const w of by) assert.ok(pids.has(w.split(':').at(-1)!), `${step} started by ${w}, not by one of the workers`);
      }
    }
  } finally {
    await within(30_000, 'the workers to drain', p.stopWorkers());
  }
});

test('--executor workers on the SQLite store: exit 2, saying to set LINEAGE_STORE=postgres://…', async () => {
  const dir = tempDir('workers-sqlite');
  for (const args of [['example/readings', '--executor', 'workers'], ['worker']]) {
    const r = await runCli(['--definitions', DEFS, '--data-dir', dir, ...args], { LINEAGE_STORE: undefined });
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, /set LINEAGE_STORE=postgres:\/\//);
  }
  const env = await runCli(['--definitions', DEFS, '--data-dir', dir, 'example/readings'], { LINEAGE_STORE: undefined, EXECUTOR: 'workers' });
  assert.is(env.code, 2);
  assert.match(env.stderr, /LINEAGE_STORE=postgres:\/\//);
});

test.run();
