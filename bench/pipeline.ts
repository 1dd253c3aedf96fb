// Pipeline benchmarks (figures printed, nothing asserted):
//  1. the ETL figures of bench/pipeline-etl.ts (rows/s on the 12-hub RT and DA exports repeated to
//     10 M rows; goal > 2 M rows/s), run as a child so its memory does not count below;
//  2. wall time and peak memory of the default `npm run materialize` from an empty store
//     (goal under 150 s and 1 GiB on 2 cores, issue #11), with the time spent in each asset and the
//     walk-forward backtest's own time.
// Run: npx tsx bench/pipeline.ts [--skip-etl]   (reads ../shared/data/pjm for the ETL part)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLineageStore, sqliteStorePath } from '../runtime/store/open-store.ts';
import type { AssetKey } from '../runtime/keys.ts';
import { cliJsonEvents } from './fixtures/cli-json.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const skipEtl = process.argv.includes('--skip-etl');

console.log(`Pipeline benchmarks — node ${process.version}, ${new Date().toISOString()}, load average ${loadavg()[0]!.toFixed(1)} before start`);

if (!skipEtl) {
  console.log('\n== ETL (bench/pipeline-etl.ts) ==');
  const etl = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/pipeline-etl.ts')], { cwd: root, stdio: 'inherit' });
  if (etl.status !== 0) console.log(`(ETL bench exited ${etl.status})`);
}

console.log('\n== Default `npm run materialize` from an empty store ==');
const dataDir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
// GNU time reports the child's peak resident memory (worker threads included: they share the process).
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const cmd = timeBin
  ? [timeBin, '-f', '__PEAK_KB=%M __CPU_S=%U+%S', process.execPath, 'bin/materialize.js', '--json']
  : [process.execPath, 'bin/materialize.js', '--json'];
const started = performance.now();
const run = spawnSync(cmd[0]!, cmd.slice(1), {
  cwd: root,
  env: { ...process.env, DATA_DIR: dataDir, OMP_WAIT_POLICY: 'passive' },
  encoding: 'utf8',
  maxBuffer: 512 * 1024 * 1024,
});
const seconds = (performance.now() - started) / 1000;
const peakKb = Number(/__PEAK_KB=(\d+)/.exec(run.stderr ?? '')?.[1] ?? NaN);
const finished = cliJsonEvents(run.stdout)
  .filter((e) => e?.type === 'run_finished')
  .pop();
console.log(`status ${finished?.status ?? `exit ${run.status}`}, ${finished?.counts?.materialized ?? '?'} materializations`);
console.log(`wall time          ${seconds.toFixed(1)} s      goal 150 s    ${seconds < 150 ? 'met' : 'NOT MET'}`);
if (Number.isFinite(peakKb)) console.log(`peak memory (RSS)  ${(peakKb / 1024).toFixed(0)} MiB   goal 1024 MiB ${peakKb / 1024 < 1024 ? 'met' : 'NOT MET'}`);
else console.log('peak memory        unavailable (install GNU time: apt-get install time)');
const cpu = /__CPU_S=([\d.]+)\+([\d.]+)/.exec(run.stderr ?? '');
// CPU seconds against wall seconds show how much of the 2 cores the run kept busy.
if (cpu)
  console.log(
    `CPU time           ${(Number(cpu[1]) + Number(cpu[2])).toFixed(1)} s (user ${cpu[1]} s, system ${cpu[2]} s): ${((Number(cpu[1]) + Number(cpu[2])) / seconds).toFixed(2)} cores busy on average`,
  );

const store = await openLineageStore(sqliteStorePath(dataDir));
const rows: { asset: string; n: number; busy: number; span: number; first: number }[] = [];
for (const asset of (await store.snapshot()).keys()) {
  const all = await store.history(asset, { limit: 1_000_000 });
  if (all.length === 0) continue;
  const first = Math.min(...all.map((m) => m.startedAt));
  rows.push({ asset, n: all.length, busy: all.reduce((t, m) => t + m.endedAt - m.startedAt, 0), span: Math.max(...all.map((m) => m.endedAt)) - first, first });
}
rows.sort((a, b) => a.first - b.first);
console.log('\nasset                      steps   wall span   summed step time');
for (const r of rows)
  console.log(`${r.asset.padEnd(26)} ${String(r.n).padStart(5)} ${(r.span / 1000).toFixed(1).padStart(9)} s ${(r.busy / 1000).toFixed(1).padStart(12)} s`);
const [backtest] = await store.history('pjm/backtest' as AssetKey, { limit: 1 });
if (backtest) {
  const summary = backtest.metadata.summary as string;
  console.log(`\nwalk-forward backtest: ${/(\d+) retrains, ([\d.]+) s/.exec(summary)?.slice(1).join(' retrains in ') ?? '?'} s\n${summary}`);
}
await store.close();
console.log(`\nload average after the run: ${loadavg()[0]!.toFixed(1)} (figures are only comparable on an otherwise idle machine)`);
rmSync(dataDir, { recursive: true, force: true });
