// Lineage store at scale (figures printed, nothing asserted), through the LineageStore
// interface, on SQLite and on PostgreSQL:
//  - recording 10,000 materializations, one transaction each, with an input and an event
//    (goals: SQLite > 5,000/s, PostgreSQL > 2,000/s); PostgreSQL also with 8 concurrent
//    committers, as several workers commit at once;
//  - the reads `status` makes of one asset with 3,650 partitions (snapshot with inputs,
//    corrupt marks, dynamic partition keys), in process (goal on PostgreSQL: under 300 ms).
// PostgreSQL: LINEAGE_STORE=postgres://… when set (use an empty database), else a throwaway
// local cluster with production durability (fsync and synchronous commit on).
// Run: npx tsx bench/scale.ts   (BENCH_COMMITS=500 BENCH_PARTITIONS=365 for a smoke run)
// Phase B adds the worker-pool backfill figures (1 in-process executor vs 1, 2, 4 workers).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AssetKey, CodeVersion, DataVersion } from '../runtime/index.ts';
import type { LineageStore, NewMaterialization } from '../runtime/store/lineage-store-api.ts';
import { openLineageStore } from '../runtime/store/open-store.ts';
import { startPostgres } from '../test/support/postgres.ts';

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

async function main(): Promise<void> {
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
