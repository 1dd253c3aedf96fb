// Lineage store at scale (figures printed, nothing asserted), through the LineageStore
// interface, on SQLite and on PostgreSQL:
//  - recording 10,000 materializations, one transaction each, with an input and an event
//    (goals: SQLite > 5,000/s, PostgreSQL > 2,000/s); PostgreSQL also with 8 concurrent
//    committers, as several workers commit at once;
//  - the reads `status` makes of one asset with 3,650 partitions (snapshot with inputs,
//    corrupt marks, dynamic partition keys), in process (goal on PostgreSQL: under 300 ms).
// PostgreSQL: LINEAGE_STORE=postgres://… when set (use an empty database), else a throwaway
// local cluster with production durability (fsync and synchronous commit on).
//  - a backfill of BENCH_BACKFILL (3,650) partitions of a cheap asset (example/readings of the
//    test fixtures: 24 rows from one DuckDB query) on PostgreSQL: the in-process executor vs 1, 2
//    and 4 `materialize worker` processes; wall time, steps per second, and the coordinator's
//    overhead per step (the CPU time of the coordinating process, this one, per step; goal
//    under 5 ms). Each mode gets a new database and data directory.
// Run: npx tsx bench/scale.ts   (BENCH_COMMITS=500 BENCH_PARTITIONS=365 BENCH_BACKFILL=200 for a
// smoke run; BENCH_WORKERS=1,2,4 the pool sizes; BENCH_BACKFILL=0 skips the backfill)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AssetKey, CodeVersion, DataVersion } from '../runtime/index.ts';
import type { LineageStore, NewMaterialization } from '../runtime/store/lineage-store-api.ts';
import { openLineageStore } from '../runtime/store/open-store.ts';
import { startPostgres, type PostgresCluster } from '../test/support/postgres.ts';
import { startCli } from '../test/support/cli.ts';
import { Instance } from '../runtime/index.ts';
import { loadDefinitions } from '../runtime/cli/load-definitions.ts';
import { materialize } from '../runtime/materialize.ts';
import { PostgresWorkQueue } from '../runtime/store/postgres/work-queue.ts';
import type { UnitPayload, UnitResult } from '../runtime/executor/work-unit.ts';

const BACKFILL = Number(process.env.BENCH_BACKFILL ?? 3650);
const POOL_SIZES = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const DEFS = 'test/fixtures/runtime/example-defs.ts';
const COMMITS = Number(process.env.BENCH_COMMITS ?? 10_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 3650);
const CONCURRENCY = 8;
const UP = 'bench/upstream' as AssetKey;

function line(name: string, value: string, goal: string, ok: boolean | undefined): void {
  console.log(`${name.padEnd(66)} ${value.padStart(12)}   goal ${goal.padEnd(10)} ${ok === undefined ? '' : ok ? 'met' : 'NOT MET'}`);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function record(asset: string, partition: string, runId: string, dataVersion: string, upstream: number | undefined): NewMaterialization {
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
  };
}

/** Commits `count` materializations with `concurrency` committers at once; returns per second. */
async function recordMany(store: LineageStore, runId: string, count: number, concurrency: number): Promise<number> {
  await store.createRun({ id: runId, selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  const upstream = await store.commitMaterialization(record(UP, '', runId, 'up', undefined));
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let k = next++; k < count; k = next++) await store.commitMaterialization(record(`bench/${runId}`, `p${k}`, runId, `dv${k}`, upstream));
    }),
  );
  return count / ((performance.now() - t) / 1000);
}

/** Fills one asset with `partitions` current versions, then times the reads of its status. */
async function statusReads(store: LineageStore, partitions: number): Promise<number> {
  const asset = 'bench/daily' as AssetKey;
  await store.createRun({ id: 'fill', selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  const upstream = await store.commitMaterialization(record(UP, '', 'fill', 'up', undefined));
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let k = next++; k < partitions; k = next++) await store.commitMaterialization(record(asset, `d${k}`, 'fill', `dv${k}`, upstream));
    }),
  );
  const times: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    const [snap] = await Promise.all([store.snapshot([asset, UP]), store.corruptMarks([asset]), store.dynamicPartitionKeys()]);
    if (snap.get(asset)?.size !== partitions) throw new Error(`expected ${partitions} current partitions, read ${snap.get(asset)?.size}`);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function bench(label: string, open: () => Promise<LineageStore>, goals: { perSec: number; readMs?: number }): Promise<void> {
  let store = await open();
  const seq = await recordMany(store, 'seq', COMMITS, 1);
  line(`${label}: recording ${COMMITS.toLocaleString('en-US')} materializations, one committer`, `${seq.toFixed(0)} /s`, `${goals.perSec} /s`, seq > goals.perSec);
  if (label === 'PostgreSQL') {
    const conc = await recordMany(store, 'conc', COMMITS, CONCURRENCY);
    line(`${label}: recording ${COMMITS.toLocaleString('en-US')} materializations, ${CONCURRENCY} committers`, `${conc.toFixed(0)} /s`, `${goals.perSec} /s`, conc > goals.perSec);
  }
  await store.close();
  store = await open();
  const ms = await statusReads(store, PARTITIONS);
  line(`${label}: status reads of one asset with ${PARTITIONS.toLocaleString('en-US')} partitions`, `${ms.toFixed(0)} ms`, goals.readMs ? `${goals.readMs} ms` : '-', goals.readMs ? ms < goals.readMs : undefined);
  await store.close();
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
    await Promise.all(pool.map((w) => new Promise<void>((resolve, reject) => {
      w.child.stderr!.on('data', (d: Buffer) => void (/claiming units/.test(d.toString()) && resolve()));
      void w.done.then((r) => reject(new Error(`a worker exited before claiming (${r.code}): ${r.stderr}`)));
    })));
    if (queue) instance.useWorkers({ queue });
    const cpu = process.cpuUsage();
    const t = performance.now();
    const r = await materialize(instance, { selection: 'example/readings', trigger: 'test' });
    const wallMs = performance.now() - t;
    const used = process.cpuUsage(cpu);
    if (r.status !== 'succeeded') throw new Error(`the backfill with ${workers} workers ended ${r.status}: ${r.failures[0]?.error ?? ''}`);
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
  for (const workers of [0, ...POOL_SIZES]) {
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
    await bench('SQLite', () => openLineageStore(join(dir, `s${++n}`, 'lineage.sqlite')), { perSec: 5000 });
    const fromEnv = process.env.LINEAGE_STORE;
    if (fromEnv?.startsWith('postgres')) {
      console.log(`(PostgreSQL: ${fromEnv.replace(/\/\/[^@/]*@/, '//***@')}; the second pass reuses the database)`);
      await bench('PostgreSQL', () => openLineageStore(fromEnv), { perSec: 2000, readMs: 300 });
    } else {
      const cluster = await startPostgres({ durable: true });
      try {
        if (BACKFILL > 0) await backfills(cluster);
        const urls: string[] = [];
        await bench(
          'PostgreSQL',
          async () => {
            urls.push(await cluster.createDatabase('bench'));
            return openLineageStore(urls.at(-1)!);
          },
          { perSec: 2000, readMs: 300 },
        );
      } finally {
        cluster.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
