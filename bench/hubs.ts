// The 12-hub real-time pipeline, end to end (figures printed, nothing asserted):
//  1. `materialize` from an empty store on ../shared/data/pjm/hubs2025_{rt,da}_hrl_lmps.csv with
//     PJM_SOURCE=dataminer-csv and the default span (the files'), testing on the last
//     PJM_BACKTEST_DAYS days: exit status, wall time, peak RSS, the feature set found, the
//     forecast day, and per-node and overall MAE and rMAE against both naives (the RT price a
//     day/week earlier, and the DA price of the same hour);
//  2. adding one node to a fully materialized store: the other 11 hubs materialized in a fresh
//     store, then the 12th added to PJM_NODES: wall time and the steps run, by asset (goal: only
//     that node's partitions, the model and its consumers; plus the trailing PJM_REVISION_DAYS
//     re-reads of the sources, which find the same rows and change nothing);
//  3. on the same feature rows, test period and settings (the feature set's default members), one
//     global model (as the pipeline trains it: per-node price scaling), the global model with
//     the node as a feature, and one model per node, each with its time and the same figures.
// Goal: rMAE < 0.80 against the day-earlier RT naive overall, better than the DA-price baseline
// on most hubs.
// Run: npx tsx bench/hubs.ts [--backtest-days 42]   (only on an otherwise idle machine)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLineageStore, sqliteStorePath } from '../runtime/store/open-store.ts';
import type { AssetKey } from '../runtime/keys.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { PJM_HUBS } from '../assets/pjm/config.ts';
import { normaliseFeatureSet, type FeatureSet } from '../assets/pjm/features/index.ts';
import { nodeRows, readFeatureTable, type FeatureTable } from '../assets/pjm/model/dataset.ts';
import { defaultSettingsFor } from '../assets/pjm/model/settings.ts';
import { walkForward, formatNodeTable, type ForecastHour } from '../assets/pjm/backtest/index.ts';
import { metricsReport, type MetricsReport } from '../assets/pjm/metrics.ts';
import { readParquetSql, sqlString } from '../lib/duckdb/sql.ts';
import { configureXGBoost } from '../lib/xgboost/config.ts';
import { ompWaitPolicy } from '../runtime/settings.ts';
import { cliJsonEvents } from './fixtures/cli-json.ts';

// Like the CLI and the server: OpenMP's idle policy from the one settings loader, before XGBoost loads.
configureXGBoost({ ompWaitPolicy: ompWaitPolicy(process.env) });

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '..', 'shared', 'data', 'pjm');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const backtestDays = Number(arg('--backtest-days', '42'));
const files = ['hubs2025_rt_hrl_lmps.csv', 'hubs2025_da_hrl_lmps.csv'];
for (const f of files) if (!existsSync(join(shared, f))) throw new Error(`bench/hubs: ${join(shared, f)} is missing; this bench reads ../shared/data/pjm.`);

console.log(`12-hub RT pipeline — node ${process.version}, ${new Date().toISOString()}, load average ${loadavg()[0]!.toFixed(1)} before start`);

// The exports under the names the reader expects (*_rt_hrl_lmps.csv, *_da_hrl_lmps.csv).
const csvDir = mkdtempSync(join(tmpdir(), 'bench-hubs-csv-'));
for (const f of files) symlinkSync(join(shared, f), join(csvDir, f));
const dataDir = mkdtempSync(join(tmpdir(), 'bench-hubs-data-'));
const env: Record<string, string | undefined> = {
  ...process.env,
  PJM_SOURCE: 'dataminer-csv',
  PJM_CSV_DIR: csvDir,
  DATA_DIR: dataDir,
  PJM_BACKTEST_DAYS: String(backtestDays),
  OMP_WAIT_POLICY: 'passive',
};
for (const v of ['PJM_START', 'PJM_END', 'PJM_NODES', 'PJM_MARKETS', 'PJM_BACKTEST_START', 'PJM_BACKTEST_END']) delete env[v];

console.log(`\n== materialize from an empty store (PJM_BACKTEST_DAYS=${backtestDays}) ==`);
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const cmd = timeBin ? [timeBin, '-f', '__PEAK_KB=%M', process.execPath, 'bin/materialize.js', '--json'] : [process.execPath, 'bin/materialize.js', '--json'];
const started = performance.now();
const run = spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
const seconds = (performance.now() - started) / 1000;
const peakKb = Number(/__PEAK_KB=(\d+)/.exec(run.stderr ?? '')?.[1] ?? NaN);
const events = cliJsonEvents(run.stdout);
const finished = events.filter((e) => e?.type === 'run_finished').pop();
console.log(`exit ${run.status}, run ${finished?.status ?? '?'}, ${finished?.counts?.materialized ?? '?'} materializations`);
console.log(`wall time          ${seconds.toFixed(1)} s`);
console.log(Number.isFinite(peakKb) ? `peak memory (RSS)  ${(peakKb / 1024).toFixed(0)} MiB` : 'peak memory        unavailable (install GNU time)');
for (const e of events.filter((x) => x?.level === 'warn' || x?.type === 'step_failed' || x?.type === 'step_blocked'))
  console.log(`  ${e.type}: ${e.asset ?? ''} ${e.message ?? e.error ?? ''}`);

const store = await openLineageStore(sqliteStorePath(dataDir));
const current = async (asset: string) => {
  const c = await store.current(asset as AssetKey, '');
  const m = c && (await store.materialization(c.id));
  return m && m.location !== null ? { location: m.location, metadata: m.metadata } : undefined;
};
for (const asset of ['pjm/feature_set', 'pjm/backtest', 'pjm/forecast']) {
  const m = await current(asset);
  console.log(`\n${asset}:\n${m ? (m.metadata.summary ?? '(no summary)') : '(not materialized)'}`);
}
const featureSetRecord = await current('pjm/feature_set');
// The current version of every node-day feature partition.
const featurePartitions = (await store.snapshot(['pjm/features' as AssetKey])).get('pjm/features' as AssetKey) ?? new Map();
const featureFiles = [...featurePartitions].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, c]) => join(dataDir, 'assets', c.location));
await store.close();
if (!featureSetRecord || featureFiles.length === 0) {
  console.log(`\nstderr (tail):\n${(run.stderr ?? '').slice(-3000)}`);
  process.exit(1);
}

// Adding one node to a fully materialized store: 11 hubs first, then the 12th.
{
  const addDir = mkdtempSync(join(tmpdir(), 'bench-hubs-add-'));
  const ids = PJM_HUBS.map((h) => h.id);
  const addEnv = { ...env, DATA_DIR: addDir };
  const base = spawnSync(process.execPath, ['bin/materialize.js', '--json'], {
    cwd: root,
    env: { ...addEnv, PJM_NODES: ids.slice(0, -1).join(',') },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const added = PJM_HUBS[PJM_HUBS.length - 1]!;
  const t0 = performance.now();
  const add = spawnSync(process.execPath, ['bin/materialize.js', '--json'], {
    cwd: root,
    env: { ...addEnv, PJM_NODES: ids.join(',') },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  });
  const addSeconds = (performance.now() - t0) / 1000;
  const addEvents = cliJsonEvents(add.stdout);
  const done = addEvents.filter((e) => e?.type === 'step_materialized');
  const byAsset = new Map<string, { ran: number; unchanged: number; otherNodes: number }>();
  for (const e of done) {
    const a = byAsset.get(e.asset) ?? { ran: 0, unchanged: 0, otherNodes: 0 };
    a.ran++;
    if (e.unchanged) a.unchanged++;
    if (typeof e.partition === 'string' && e.partition.includes('|') && !e.partition.startsWith(`${added.id}|`)) a.otherNodes++;
    byAsset.set(e.asset, a);
  }
  console.log(`\n== add one node (${added.id} ${added.name}) to a store of the other 11 hubs (exit ${base.status} then ${add.status}) ==`);
  console.log(
    `wall time          ${addSeconds.toFixed(1)} s, ${done.length} steps run (${done.filter((e) => e.unchanged).length} of them found their data unchanged)`,
  );
  for (const [asset, a] of byAsset)
    console.log(
      `  ${asset.padEnd(24)} ${String(a.ran).padStart(4)} run, ${String(a.unchanged).padStart(4)} unchanged, ${String(a.otherNodes).padStart(3)} of other nodes`,
    );
  rmSync(addDir, { recursive: true, force: true });
}

// Same rows, same test period: global, global + node feature, one model per node.
const featureSet = normaliseFeatureSet(featureSetRecord.metadata.featureSet as unknown as FeatureSet);
const conn = await (await DuckDBInstance.create(':memory:')).connect();
const allFeatures = join(dataDir, 'features-all.parquet');
await conn.run(`COPY (SELECT * FROM ${readParquetSql(featureFiles)} ORDER BY node_id, day, hour) TO ${sqlString(allFeatures)} (FORMAT parquet)`);
const table = await readFeatureTable(conn, allFeatures, featureSet);
const lastDay = new Date(table.dayNumber[table.rows - 1]! * 86_400_000);
const day = (d: Date): string => d.toISOString().slice(0, 10);
const period = {
  testFirstDay: day(new Date(lastDay.getTime() - (backtestDays - 1) * 86_400_000)),
  testLastDay: day(lastDay),
  recalibration: 'monthly' as const,
  window: { kind: 'expanding' as const },
  settings: defaultSettingsFor(featureSet),
};
const names = new Map(PJM_HUBS.map((n) => [n.id, n.name!]));
const nodes = [...new Set(Array.from(table.nodeId))].sort((a, b) => a - b);

/** The table with the node as one more (numeric, per-node constant) feature. */
function withNodeFeature(t: FeatureTable): FeatureTable {
  const code = Float64Array.from(t.nodeId, (id) => nodes.indexOf(id));
  return { ...t, featureNames: [...t.featureNames, 'node_index'], features: { ...t.features, node_index: code } };
}

const variants: Array<[string, () => Promise<readonly ForecastHour[]>]> = [
  ['global (per-node price scaling; the pipeline default)', async () => (await walkForward(table, period)).forecasts],
  ['global, node as a feature', async () => (await walkForward(withNodeFeature(table), period)).forecasts],
  [
    'one model per node',
    async () => {
      const out: ForecastHour[] = [];
      for (const n of nodes) out.push(...(await walkForward(nodeRows(table, n), period)).forecasts);
      return out;
    },
  ],
];
const results: Array<[string, MetricsReport, number]> = [];
for (const [name, forecast] of variants) {
  const t0 = performance.now();
  const report = metricsReport(await forecast());
  const s = (performance.now() - t0) / 1000;
  results.push([name, report, s]);
  console.log(
    `\n== ${name}: ${period.testFirstDay}..${period.testLastDay}, ${s.toFixed(1)} s, process peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB ==`,
  );
  console.log(formatNodeTable(report, names));
}
console.log('\n== summary (overall) ==');
for (const [name, r, s] of results) {
  const o = r.overall;
  const better = Object.values(r.byNode).filter((x) => (x.rmaeDa ?? Infinity) < 1).length;
  console.log(
    `${name.padEnd(56)} MAE ${o.mae.toFixed(3)}  rMAE ${o.rmae.toFixed(3)} (goal < 0.80)  rMAE DA ${o.rmaeDa?.toFixed(3) ?? '—'}  better than DA on ${better}/${nodes.length} hubs  ${s.toFixed(1)} s`,
  );
}
const best = results.reduce((a, b) => (b[1].overall.mae < a[1].overall.mae ? b : a));
console.log(`best overall MAE: ${best[0]}`);
console.log(`\nload average after the run: ${loadavg()[0]!.toFixed(1)} (figures are only comparable on an otherwise idle machine)`);
rmSync(dataDir, { recursive: true, force: true });
rmSync(csvDir, { recursive: true, force: true });
