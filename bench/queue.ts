// The worker pool's queue, measured against a queue library (figures printed, nothing
// asserted): N no-op jobs through graphile-worker and through the store's own queue
// (PostgresWorkQueue: enqueue, then claim + complete as `materialize worker` does), each on
// a new database of one throwaway cluster with production durability (fsync and synchronous
// commit on), at the same concurrency (1, 2, 4 jobs at once). For each:
//  - burst: N jobs enqueued one after the other while the workers wait; jobs per second from
//    the first enqueue to the last job's end recorded in the database (graphile-worker writes a
//    completion without waiting for it; ours waits), and the latency from a job's enqueue to its start
//    (median, p95: in a burst mostly time spent queued behind the others);
//  - pickup: TRICKLE jobs one at a time, each enqueued once the one before has ended, so the
//    workers are idle: the latency from enqueue to start is the queue's own (NOTIFY, claim).
// graphile-worker runs as its documented library mode does (`run()` with a task list, one
// process, `concurrency` jobs at once); ours runs `concurrency` claim loops in this process,
// each with its own queue handle (a worker's pool and LISTEN connection), as worker.ts does
// (a unit's completion claims the next in one statement).
// Both produce and consume in this process, so neither pays a network hop the other does not.
// Run: npx tsx bench/queue.ts   (BENCH_QUEUE_JOBS=2000, BENCH_QUEUE_TRICKLE=200, BENCH_QUEUE_CONCURRENCY=1,2,4)
import { performance } from 'node:perf_hooks';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import pg from 'pg';
import type { AssetKey } from '../runtime/index.ts';
import { openLineageStore } from '../runtime/store/open-store.ts';
import { PostgresWorkQueue } from '../runtime/store/postgres/work-queue.ts';
import { startPostgres, type PostgresCluster } from '../test/support/postgres.ts';
import { Wakeup } from '../lib/wakeup.ts';

const JOBS = Number(process.env.BENCH_QUEUE_JOBS ?? 2000);
const TRICKLE = Number(process.env.BENCH_QUEUE_TRICKLE ?? 200);
const CONCURRENCY = (process.env.BENCH_QUEUE_CONCURRENCY ?? '1,2,4').split(',').map(Number);
/** How long an idle claim loop of ours sleeps without a notification (worker.ts's default). */
const POLL_MS = 1000;

interface Job {
  readonly k: number;
  /** performance.now() at enqueue, in this process. */
  readonly t: number;
}

/** What a queue under test offers the phases: enqueue one job; `started` is called as each starts. */
interface QueueUnderTest {
  enqueue(job: Job): Promise<void>;
  /** Resolves once every job enqueued so far has ended and its end is recorded in the database. */
  drained(): Promise<void>;
  stop(): Promise<void>;
}

/** Resolves once `query` (a count) reads 0, looking every 2 ms. */
async function untilZero(client: pg.Client, query: string): Promise<void> {
  for (;;) {
    const { rows } = await client.query<{ n: number }>(query);
    if (Number(rows[0]!.n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

type Started = (job: Job) => void;

const quantile = (xs: readonly number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;

async function graphileWorker(url: string, concurrency: number, started: Started): Promise<QueueUnderTest> {
  const quiet = new Logger(() => () => undefined);
  const utils = await makeWorkerUtils({ connectionString: url, logger: quiet });
  await utils.migrate();
  const runner = await run({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    pollInterval: POLL_MS,
    logger: quiet,
    taskList: { noop: async (payload: unknown) => started(payload as Job) },
  });
  // A job's completion is written after its task returns, without the worker waiting for it
  // (it fetches the next job meanwhile), and a completed job's row is deleted: drained when none is left.
  const watcher = new pg.Client({ connectionString: url });
  await watcher.connect();
  return {
    enqueue: async (job) => void (await utils.addJob('noop', job)),
    drained: () => untilZero(watcher, 'SELECT count(*) AS n FROM graphile_worker._private_jobs'),
    async stop() {
      await runner.stop();
      await utils.release();
      await watcher.end();
    },
  };
}

async function storeQueue(url: string, concurrency: number, started: Started): Promise<QueueUnderTest> {
  // The store applies the migrations (work_units) and holds the run the units belong to.
  const store = await openLineageStore(url);
  const runId = 'bench-queue';
  await store.createRun({ id: runId, selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  const producer = PostgresWorkQueue.open<Job, null>(url);
  let stopping = false;
  const loops = await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const queue = PostgresWorkQueue.open<Job, null>(url);
      const wakeup = new Wakeup();
      const unsubscribe = await queue.subscribe(() => wakeup.wake());
      const worker = `bench:${w}`;
      const loop = (async () => {
        // As worker.ts: a unit's completion claims the next in the same statement.
        let claimed: Awaited<ReturnType<typeof queue.claim>>;
        while (!stopping) {
          claimed ??= await queue.claim(worker, Date.now(), 30_000);
          if (!claimed) {
            await wakeup.sleep(POLL_MS);
            continue;
          }
          started(claimed.payload);
          const claim = { id: claimed.id, worker, attempt: claimed.attempt };
          claimed = (await queue.completeAndClaim(claim, null, Date.now(), 30_000)).next;
        }
        if (claimed) await queue.handBack({ id: claimed.id, worker, attempt: claimed.attempt });
      })();
      return { queue, unsubscribe, loop, wakeUp: () => wakeup.wake() };
    }),
  );
  let n = 0;
  const watcher = new pg.Client({ connectionString: url });
  await watcher.connect();
  return {
    drained: () => untilZero(watcher, `SELECT count(*) AS n FROM work_units WHERE state <> 'done'`),
    async enqueue(job) {
      const r = await producer.enqueue({
        runId,
        unitKey: `u${++n}`,
        asset: 'bench/noop' as AssetKey,
        partitions: [''],
        pool: null,
        payload: job,
        maxAttempts: 3,
        now: Date.now(),
      });
      if (!r.enqueued) throw new Error('a unit without a pool was refused');
    },
    async stop() {
      stopping = true;
      for (const l of loops) l.wakeUp();
      for (const l of loops) {
        await l.loop;
        await l.unsubscribe();
        await l.queue.close();
      }
      await producer.close();
      await watcher.end();
      await store.close();
    },
  };
}

interface Figures {
  readonly perSec: number;
  readonly burstP50: number;
  readonly burstP95: number;
  readonly pickupP50: number;
  readonly pickupP95: number;
}

async function measure(open: (started: Started) => Promise<QueueUnderTest>): Promise<Figures> {
  let latencies: number[] = [];
  let onStart: (() => void) | undefined;
  const q = await open((job) => {
    latencies.push(performance.now() - job.t);
    onStart?.();
  });
  try {
    // Warm-up: both sides' statements prepared and compiled before anything is timed.
    for (let k = 0; k < 20; k++) await oneAtATime(q, k, (f) => (onStart = f));
    await q.drained();
    latencies = [];
    const all = new Promise<void>((resolve) => (onStart = () => latencies.length === JOBS && resolve()));
    const t = performance.now();
    for (let k = 0; k < JOBS; k++) await q.enqueue({ k, t: performance.now() });
    await all;
    await q.drained();
    const perSec = JOBS / ((performance.now() - t) / 1000);
    const burst = latencies;
    latencies = [];
    for (let k = 0; k < TRICKLE; k++) await oneAtATime(q, k, (f) => (onStart = f));
    return {
      perSec,
      burstP50: quantile(burst, 0.5),
      burstP95: quantile(burst, 0.95),
      pickupP50: quantile(latencies, 0.5),
      pickupP95: quantile(latencies, 0.95),
    };
  } finally {
    await q.stop();
  }
}

/** Enqueues one job and waits until it has ended, recorded, so the next finds the workers idle. */
async function oneAtATime(q: QueueUnderTest, k: number, setOnStart: (f: () => void) => void): Promise<void> {
  const begun = new Promise<void>((resolve) => setOnStart(resolve));
  await q.enqueue({ k, t: performance.now() });
  await begun;
  await q.drained();
}

function print(name: string, concurrency: number, f: Figures): void {
  const ms = (x: number): string => `${x.toFixed(2)} ms`;
  console.log(
    `${name.padEnd(28)} concurrency ${concurrency}   ${`${f.perSec.toFixed(0)} jobs/s`.padStart(12)}   burst enqueue→start p50 ${ms(f.burstP50).padStart(10)} p95 ${ms(f.burstP95).padStart(10)}   idle pickup p50 ${ms(f.pickupP50).padStart(8)} p95 ${ms(f.pickupP95).padStart(8)}`,
  );
}

async function main(): Promise<void> {
  const cluster: PostgresCluster = await startPostgres({ durable: true });
  try {
    console.log(`${JOBS.toLocaleString('en-US')} no-op jobs per burst, ${TRICKLE} one at a time; durable cluster (fsync, synchronous_commit on)`);
    for (const concurrency of CONCURRENCY) {
      print('graphile-worker', concurrency, await measure(async (started) => graphileWorker(await cluster.createDatabase('gw'), concurrency, started)));
      print('PostgresWorkQueue (ours)', concurrency, await measure(async (started) => storeQueue(await cluster.createDatabase('ours'), concurrency, started)));
    }
  } finally {
    cluster.stop();
  }
}

await main();
