// Lineage store at scale (figures printed, nothing asserted), through the LineageStore
// interface, on SQLite and on PostgreSQL:
//  - record: recording 10,000 materializations, one transaction each, with an input and an
//    event (goals: SQLite > 5,000/s, PostgreSQL > 2,000/s); on PostgreSQL also fenced as a worker
//    commits (leaseHolder: the lease checked under a row lock in the same transaction; the two
//    kinds alternate, one commit each, and are timed apart), and with 8 concurrent committers,
//    as several workers commit at once;
//  - status: `status` in process (Instance.status: the store's reads and the staleness of every
//    partition) of one asset with 3,650 partitions, and of a whole graph of 1,000 assets (that
//    one included, as `materialize status` shows them), all fresh, on the synthetic graph of
//    bench/fixtures/synthetic-defs.ts (goal on PostgreSQL: under 300 ms each);
//  - backfill: a backfill of BENCH_BACKFILL (3,650) partitions of a cheap asset (example/readings
//    of the test fixtures: 24 rows from one DuckDB query) on PostgreSQL: the in-process executor
//    vs 1, 2 and 4 `materialize worker` processes; wall time, steps per second, and the
//    coordinator's overhead per step (the CPU time of the coordinating process, this one, per
//    step, with an event listener as the CLI has: the coordinator relays the workers' events
//    to it from the store; goal under 5 ms). Each mode gets a new database and data directory.
// PostgreSQL: LINEAGE_STORE=postgres://… when set (use an empty database; record and status
// only), else a throwaway local cluster with production durability (fsync and synchronous commit on).
// Run: npx tsx bench/scale.ts   (BENCH_COMMITS=500 BENCH_BACKFILL=200 for a smoke run;
// BENCH_ONLY=record,status,backfill picks sections; BENCH_WORKERS=0,1,2,4 the backfill modes, 0
// the in-process executor; BENCH_CPU_PROFILE=DIR writes the coordinator's CPU profile of each
// worker backfill there, for Chrome DevTools). The worker pool's queue against graphile-worker:
// bench/queue.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Instance, type AssetKey, type CodeVersion, type DataVersion, type Definitions, type RunEvent } from '../runtime/index.ts';
import type { LineageStore, NewMaterialization } from '../runtime/store/lineage-store-api.ts';
import { openLineageStore } from '../runtime/store/open-store.ts';
import { startPostgres, type PostgresCluster } from '../test/support/postgres.ts';
import { startCli } from '../test/support/cli.ts';
import { loadDefinitions } from '../runtime/cli/load-definitions.ts';
import { materialize } from '../runtime/materialize.ts';
import { PostgresWorkQueue } from '../runtime/store/postgres/work-queue.ts';
import type { UnitPayload, UnitResult } from '../runtime/executor/work-unit.ts';
import { fillFresh } from './fixtures/fill-fresh.ts';

type Section = 'record' | 'status' | 'backfill';
const SECTIONS = new Set((process.env.BENCH_ONLY ?? 'record,status,backfill').split(',') as Section[]);
const BACKFILL = SECTIONS.has('backfill') ? Number(process.env.BENCH_BACKFILL ?? 3650) : 0;
/** Backfill modes: 0 is the in-process executor, n > 0 that many worker processes. */
const MODES = (process.env.BENCH_WORKERS ?? '0,1,2,4').split(',').map(Number);
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;
const DEFS = 'test/fixtures/runtime/example-defs.ts';
const COMMITS = Number(process.env.BENCH_COMMITS ?? 10_000);
const PARTITIONS = 3650;
const ASSETS = 1000;
const CONCURRENCY = 8;
const UP = 'bench/upstream' as AssetKey;

function line(name: string, value: string, goal: string, ok: boolean | undefined): void {
  console.log(`${name.padEnd(66)} ${value.padStart(12)}   goal ${goal.padEnd(10)} ${ok === undefined ? '' : ok ? 'met' : 'NOT MET'}`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function record(asset: string, partition: string, runId: string, dataVersion: string, upstream: number | undefined, leaseHolder?: string): NewMaterialization {
  const now = Date.now();
  return {
    asset: asset as AssetKey,
    partition,
    runId,
    status: 'published',
    codeVersion: '1' as CodeVersion,
    dataVersion: dataVersion as DataVersion,
    location: `${asset}/${partition || '_'}/${dataVersion}.parquet`,
    metadata: { rowCount: 24 },
    startedAt: now,
    endedAt: now,
    inputs: upstream === undefined ? [] : [{ asset: UP, partition: '', materializationId: upstream, dataVersion: 'up' as DataVersion }],
    checks: [],
    events: [{ runId, ts: now, level: 'info', type: 'step_materialized', asset, partition, message: `${asset}[${partition}] materialized` }],
    ...(leaseHolder === undefined ? {} : { leaseHolder }),
  };
}

/** What one kind of commit needs: its run, an upstream version to point at, and (fenced) a holder whose leases it takes. */
async function committer(store: LineageStore, runId: string, count: number, fenced: boolean): Promise<(k: number) => Promise<number>> {
  await store.createRun({ id: runId, selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  const upstream = await store.commitMaterialization(record(UP, '', runId, 'up', undefined));
  const asset = `bench/${runId}`;
  const holder = fenced ? `${runId}@bench:1#1` : undefined;
  if (holder) await inParallel(CONCURRENCY, count, (k) => store.tryAcquireLease(asset as AssetKey, `p${k}`, holder, Date.now(), 3_600_000));
  return (k) => store.commitMaterialization(record(asset, `p${k}`, runId, `dv${k}`, upstream, holder));
}

async function inParallel(n: number, count: number, each: (k: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let k = next++; k < count; k = next++) await each(k);
    }),
  );
}

/**
 * One committer, one commit at a time, of each kind in turn (plain, and on PostgreSQL fenced as a
 * worker commits), each kind timed on its own: a change of the machine's load or of the disk
 * during the run then hits both alike. A warm-up first (the first commits of a new cluster also
 * create its WAL files). Returns each kind's commits per second.
 */
async function oneCommitter(store: LineageStore, count: number): Promise<{ plain: number; fenced?: number }> {
  const warmUp = await committer(store, 'warm', 500, false);
  for (let k = 0; k < 500; k++) await warmUp(k);
  const kinds = [await committer(store, 'seq', count, false), ...(store.kind === 'postgres' ? [await committer(store, 'fenced', count, true)] : [])];
  const spent = kinds.map(() => 0);
  for (let k = 0; k < count; k++) {
    for (const [i, commit] of kinds.entries()) {
      const t = performance.now();
      await commit(k);
      spent[i]! += performance.now() - t;
    }
  }
  const perSec = spent.map((ms) => count / (ms / 1000));
  return { plain: perSec[0]!, ...(perSec[1] === undefined ? {} : { fenced: perSec[1] }) };
}

async function recording(label: string, open: () => Promise<LineageStore>, goal: number): Promise<void> {
  const store = await open();
  try {
    const one = await oneCommitter(store, COMMITS);
    line(
      `${label}: recording ${COMMITS.toLocaleString('en-US')} materializations, one committer`,
      `${one.plain.toFixed(0)} /s`,
      `${goal} /s`,
      one.plain > goal,
    );
    if (one.fenced !== undefined) {
      line(`${label}: the same, each fenced as a worker commits (leaseHolder)`, `${one.fenced.toFixed(0)} /s`, `${goal} /s`, one.fenced > goal);
      const commit = await committer(store, 'conc', COMMITS, false);
      const t = performance.now();
      await inParallel(CONCURRENCY, COMMITS, commit);
      const conc = COMMITS / ((performance.now() - t) / 1000);
      line(
        `${label}: recording ${COMMITS.toLocaleString('en-US')} materializations, ${CONCURRENCY} committers`,
        `${conc.toFixed(0)} /s`,
        `${goal} /s`,
        conc > goal,
      );
    }
  } finally {
    await store.close();
  }
}

/** The synthetic graph of ASSETS assets in all: ASSETS - 2 unpartitioned ones in layers, one daily asset of PARTITIONS partitions and its consumer. */
async function syntheticDefinitions(): Promise<Definitions<unknown>> {
  process.env.SYNTH_ASSETS = String(ASSETS - 2);
  process.env.SYNTH_PARTITIONS = String(PARTITIONS);
  const mod = (await import('./fixtures/synthetic-defs.ts')) as { default: Definitions<unknown> };
  return mod.default;
}

/**
 * Fills a store with the synthetic graph all fresh, then times `status` of the daily asset, and
 * of everything (`materialize status`: the 1,000 assets, the daily one's partitions included); medians of 5.
 */
async function statusTimes(label: string, open: () => Promise<LineageStore>, goalMs: number | undefined): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-status-'));
  const instance = await Instance.open(await syntheticDefinitions(), { dataDir, store: await open() });
  try {
    const t0 = performance.now();
    const recorded = await fillFresh(instance);
    console.log(
      `  (${label}: recorded ${recorded.toLocaleString('en-US')} fresh materializations to read, in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const cases = [
      { what: `one asset with ${PARTITIONS.toLocaleString('en-US')} partitions`, selection: 'synthetic/daily', fresh: PARTITIONS },
      { what: `${instance.graph.size.toLocaleString('en-US')} assets`, selection: undefined, fresh: recorded },
    ];
    for (const c of cases) {
      const times: number[] = [];
      let fresh = 0;
      for (let k = 0; k < 5; k++) {
        const t = performance.now();
        const statuses = await instance.status(c.selection);
        times.push(performance.now() - t);
        fresh = statuses.reduce((n, s) => n + s.fresh, 0);
      }
      if (fresh !== c.fresh) throw new Error(`${label}: status of ${c.what} found ${fresh} fresh partitions, expected ${c.fresh}`);
      const ms = median(times);
      line(`${label}: \`status\` of ${c.what}, all fresh (in process)`, `${ms.toFixed(0)} ms`, goalMs ? `${goalMs} ms` : '-', goalMs ? ms < goalMs : undefined);
    }
  } finally {
    await instance.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `days` daily partitions from 2015-01-01: the fixture's range, read from the environment when its module loads. */
function backfillRange(days: number): { start: string; end: string } {
  const start = Date.UTC(2015, 0, 1);
  return { start: '2015-01-01', end: new Date(start + (days - 1) * 86_400_000).toISOString().slice(0, 10) };
}

/**
 * One backfill of every partition of example/readings on a new database: in this process
 * (workers = 0) or coordinated here and run by `workers` worker processes. Returns wall ms and
 * this process's CPU ms (the coordinator's cost; with workers it runs no step).
 */
async function backfill(cluster: PostgresCluster, workers: number): Promise<{ wallMs: number; cpuMs: number; materialized: number }> {
  const url = await cluster.createDatabase(`backfill${workers}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-backfill-'));
  const instance = await Instance.open(await loadDefinitions(DEFS, { dataDir, env: process.env }), { dataDir, store: await openLineageStore(url) });
  const env = { LINEAGE_STORE: url, EXAMPLE_START: process.env.EXAMPLE_START, EXAMPLE_END: process.env.EXAMPLE_END };
  const pool = Array.from({ length: workers }, () => startCli(['--definitions', DEFS, '--data-dir', dataDir, 'worker'], env));
  const queue = workers > 0 ? PostgresWorkQueue.open<UnitPayload, UnitResult>(url) : undefined;
  try {
    // Started and ready to claim (their first line), so start-up is not counted.
    await Promise.all(
      pool.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.child.stderr!.on('data', (d: Buffer) => void (/claiming units/.test(d.toString()) && resolve()));
            void w.done.then((r) => reject(new Error(`a worker exited before claiming (${r.code}): ${r.stderr}`)));
          }),
      ),
    );
    if (queue) instance.useWorkers({ queue });
    const profiler = PROFILE_DIR && workers > 0 ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const cpu = process.cpuUsage();
    const t = performance.now();
    // A listener, as the CLI's renderer: with workers, the coordinator relays their events from the store to it.
    let announced = 0;
    const onEvent = (e: RunEvent): void => void (e.type === 'step_materialized' && announced++);
    const r = await materialize(instance, { selection: 'example/readings', trigger: 'test', onEvent });
    const wallMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const path = join(PROFILE_DIR!, `coordinator-${workers}w-${BACKFILL}.cpuprofile`);
      writeFileSync(path, JSON.stringify(profile));
      profiler.disconnect();
      console.log(`  (the coordinator's CPU profile: ${path})`);
    }
    if (r.status !== 'succeeded') throw new Error(`the backfill with ${workers} workers ended ${r.status}: ${r.failures[0]?.error ?? ''}`);
    if (announced !== r.counts.materialized) throw new Error(`the listener heard of ${announced} materializations, the run made ${r.counts.materialized}`);
    return { wallMs, cpuMs: (used.user + used.system) / 1000, materialized: r.counts.materialized };
  } finally {
    for (const w of pool) w.child.kill('SIGTERM');
    await Promise.all(pool.map((w) => w.done));
    await queue?.close();
    await instance.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function backfills(cluster: PostgresCluster): Promise<void> {
  for (const workers of MODES) {
    const r = await backfill(cluster, workers);
    const what = workers === 0 ? 'in-process executor' : `${workers} worker${workers === 1 ? '' : 's'}`;
    const perStep = r.cpuMs / r.materialized;
    line(`PostgreSQL: backfill of ${r.materialized.toLocaleString('en-US')} partitions, ${what}, wall`, `${(r.wallMs / 1000).toFixed(1)} s`, '-', undefined);
    line(`PostgreSQL: backfill, ${what}, steps per second`, `${(r.materialized / (r.wallMs / 1000)).toFixed(0)} /s`, '-', undefined);
    if (workers > 0) line(`PostgreSQL: backfill, ${what}, coordinator CPU per step`, `${perStep.toFixed(2)} ms`, '5 ms', perStep < 5);
  }
}

async function main(): Promise<void> {
  if (BACKFILL > 0) {
    const range = backfillRange(BACKFILL);
    process.env.EXAMPLE_START = range.start;
    process.env.EXAMPLE_END = range.end;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  try {
    let n = 0;
    const sqlite = () => openLineageStore(join(dir, `s${++n}`, 'lineage.sqlite'));
    if (SECTIONS.has('record')) await recording('SQLite', sqlite, 5000);
    if (SECTIONS.has('status')) await statusTimes('SQLite', sqlite, undefined);
    const fromEnv = process.env.LINEAGE_STORE;
    if (fromEnv?.startsWith('postgres')) {
      console.log(`(PostgreSQL: ${fromEnv.replace(/\/\/[^@/]*@/, '//***@')}; every section reuses the database)`);
      if (SECTIONS.has('record')) await recording('PostgreSQL', () => openLineageStore(fromEnv), 2000);
      if (SECTIONS.has('status')) await statusTimes('PostgreSQL', () => openLineageStore(fromEnv), 300);
    } else {
      const cluster = await startPostgres({ durable: true });
      try {
        if (BACKFILL > 0) await backfills(cluster);
        const postgres = async () => openLineageStore(await cluster.createDatabase('bench'));
        if (SECTIONS.has('record')) await recording('PostgreSQL', postgres, 2000);
        if (SECTIONS.has('status')) await statusTimes('PostgreSQL', postgres, 300);
      } finally {
        cluster.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
