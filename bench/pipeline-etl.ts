// Benchmark of the PJM ETL (raw CSV -> canonical Parquet) on the 12-hub RT and DA Data Miner
// exports repeated to 10 million rows; goal > 2 M rows/s. Prints rows/s for:
//   A. end to end: the CSV reader over the exports listed 189 times each (symlinks, so no disk
//      copy), Data Miner timestamp parsing, dedupe and the EPT-vs-UTC check of every row in one
//      GROUP BY pass, then the Parquet write. The copies are identical, so 53,016 rows remain.
//   B. processed alone, with 10 M distinct keys: the canonical SQL (rowid form, as for tables)
//      and Parquet write over the rows shifted 2,209 hours per copy (built untimed, in memory),
//      so 10 M rows are written.
// Run sparingly (2 shared cores): `npx tsx bench/pipeline-etl.ts [path/to/shared/data/pjm]`.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { registerDataMinerLmpCsv } from '../assets/pjm/sources/dataminer-csv.ts';
import { writeCanonicalPrices } from '../assets/pjm/processed/prices.ts';

const dataDir = resolve(process.argv[2] ?? fileURLToPath(new URL('../../shared/data/pjm/', import.meta.url)));
const files = { rt: join(dataDir, 'hubs2025_rt_hrl_lmps.csv'), da: join(dataDir, 'hubs2025_da_hrl_lmps.csv') };
for (const f of Object.values(files)) {
  if (!existsSync(f)) {
    console.error(`Missing ${f}: pass the directory holding hubs2025_{rt,da}_hrl_lmps.csv (see ../shared/data/pjm/SOURCES.md).`);
    process.exit(2);
  }
}

const TARGET = 10_000_000;
const ROWS_PER_FILE = 26_508;
const COPIES = Math.ceil(TARGET / (2 * ROWS_PER_FILE)); // 189 per market
const work = await mkdtemp(join(tmpdir(), 'pjm-etl-bench-'));
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
// The machine is shared: wall time depends on what else runs. CPU seconds (this process, all
// DuckDB threads) show the work itself; rows per CPU-second x 2 is what 2 idle cores would give.
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const figure = (label: string, rows: number, wallMs: number, cpuS: number): string =>
  `${label}: ${fmt(rows / (wallMs / 1000))} rows/s wall (${(wallMs / 1000).toFixed(2)} s), ${fmt(rows / cpuS)} rows per CPU-second (${cpuS.toFixed(2)} CPU s; x2 cores = ${fmt((2 * rows) / cpuS)} rows/s)`;

try {
  const listed: Record<'rt' | 'da', string[]> = { rt: [], da: [] };
  for (const m of ['rt', 'da'] as const) {
    for (let i = 0; i < COPIES; i++) {
      const link = join(work, `copy${String(i).padStart(3, '0')}_${m}_hrl_lmps.csv`);
      await symlink(files[m], link);
      listed[m].push(link);
    }
  }

  // A. End to end.
  const c0 = cpu();
  const t0 = performance.now();
  await registerDataMinerLmpCsv(conn, listed.rt, 'rt', 'bench_rt');
  await registerDataMinerLmpCsv(conn, listed.da, 'da', 'bench_da');
  const t1 = performance.now();
  const outA = join(work, 'prices-a.parquet');
  const wA = await writeCanonicalPrices(conn, ['bench_rt', 'bench_da'], outA);
  const t2 = performance.now();
  const c2 = cpu();
  const counted = await conn.runAndReadAll(`SELECT (SELECT count(*) FROM bench_rt) + (SELECT count(*) FROM bench_da) AS n`); // untimed
  const inA = Number(counted.getRowObjects()[0]?.['n'] ?? 0);
  console.log(`A. end to end: ${fmt(inA)} CSV rows (${COPIES} copies each of RT and DA) -> ${fmt(wA.rows)} canonical rows`);
  console.log(`   header check ${((t1 - t0) / 1000).toFixed(2)} s, parse + EPT check + dedupe + Parquet ${((t2 - t1) / 1000).toFixed(2)} s`);
  console.log(`   ${figure('A', inA, t2 - t0, c2 - c0)}`);

  // B. Processed alone over 10 M distinct (node, market, hour) keys.
  await conn.run(`CREATE TEMP TABLE one AS (SELECT * FROM bench_rt LIMIT ${ROWS_PER_FILE}) UNION ALL (SELECT * FROM bench_da LIMIT ${ROWS_PER_FILE})`);
  await conn.run(`CREATE TEMP TABLE distinct_raw AS
    SELECT o.* REPLACE (o.ts_utc + to_hours(CAST(k.k * 2209 AS BIGINT)) AS ts_utc) FROM one o, range(${COPIES}) k(k)`);
  const c3 = cpu();
  const t3 = performance.now();
  const outB = join(work, 'prices-b.parquet');
  const wB = await writeCanonicalPrices(conn, ['distinct_raw'], outB);
  const t4 = performance.now();
  const c4 = cpu();
  console.log(
    `B. processed alone: ${fmt(wB.rows)} distinct rows -> Parquet (${((await stat(outB)).size / 2 ** 20).toFixed(0)} MiB) in ${((t4 - t3) / 1000).toFixed(2)} s`,
  );
  console.log(`   ${figure('B', wB.rows, t4 - t3, c4 - c3)}`);
  console.log(`goal > 2,000,000 rows/s: A ${inA / ((t2 - t0) / 1000) > 2e6 ? 'met' : 'NOT met'}, B ${wB.rows / ((t4 - t3) / 1000) > 2e6 ? 'met' : 'NOT met'}`);
} finally {
  conn.closeSync();
  await rm(work, { recursive: true, force: true });
}
