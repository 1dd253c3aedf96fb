// Runtime benchmarks (figures printed, nothing asserted):
//  - plan + staleness check of a fully fresh synthetic graph, 1,000 and 10,000 assets, in process (goals 100 ms, 1 s);
//  - a no-op `materialize` of 1,000 assets through the CLI from dist/, process start included (goal 250 ms),
//    with its ratio to `node -e ''`;
//  - recording 10,000 materializations (goal > 5,000/s);
//  - `status` of one daily-partitioned asset with 3,650 partitions (goal 200 ms);
//  - `status` and the plan of a node x day asset, 100 nodes x 3,650 days, fresh (365,000 partitions).
// Run: npx tsx bench/runtime.ts   (BENCH_ONLY=node-day BENCH_NODES=100 for the node x day section alone,
//      BENCH_ONLY=cli for the 1,000-asset plan and the CLI no-op)
import { execFileSync } from 'node:child_process';
// @ts-expect-error: a plain JavaScript module of bin/, without types
import { distIsCurrent } from '../bin/compiled.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  Instance,
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  multiPartitions,
  prepareRun,
  staticPartitions,
  type AssetKey,
  type CodeVersion,
  type DataVersion,
} from '../runtime/index.ts';
import { fillFresh, record } from './fixtures/fill-fresh.ts';

const DEFS = new URL('./fixtures/synthetic-defs.ts', import.meta.url).pathname;
const CLI = new URL('../bin/materialize.js', import.meta.url).pathname;
const BUILD = new URL('../bin/build.js', import.meta.url).pathname;
/** The same definitions bundled by `npm run build` (bin/build.js has them among its entry points). */
const COMPILED_DEFS = new URL('../dist/bench/fixtures/synthetic-defs.js', import.meta.url).pathname;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function line(name: string, value: string, goal: string, ok: boolean): void {
  console.log(`${name.padEnd(58)} ${value.padStart(14)}   goal ${goal.padEnd(10)} ${ok ? 'met' : 'NOT MET'}`);
}

async function loadDefs(assets: number) {
  process.env.SYNTH_ASSETS = String(assets);
  const mod = await import(`${DEFS}?n=${assets}&p=${process.env.SYNTH_PARTITIONS}`);
  return mod.default;
}

async function planBench(assets: number, goalMs: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-runtime-'));
  process.env.SYNTH_PARTITIONS = '10';
  const defs = await loadDefs(assets);
  const instance = await Instance.open(defs, { dataDir: dir });
  await fillFresh(instance);
  const times: number[] = [];
  let runs = 0;
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    const prepared = await prepareRun(instance, {});
    times.push(performance.now() - t);
    runs = prepared.plan.counts.run;
  }
  const ms = median(times);
  line(`plan + staleness, fully fresh graph of ${assets} assets (in process)`, `${ms.toFixed(1)} ms`, `${goalMs} ms`, ms < goalMs && runs === 0);
  await instance.close();
  return dir;
}

async function main() {
  console.log(`Runtime benchmarks — node ${process.version}, ${new Date().toISOString()}`);
  // BENCH_ONLY=node-day runs the node x day section alone; BENCH_ONLY=cli the 1,000-asset plan and the CLI no-op.
  if (process.env.BENCH_ONLY === 'node-day') return nodeDayBench(Number(process.env.BENCH_NODES ?? 100), 3650);
  const only = process.env.BENCH_ONLY;
  const dir1000 = await planBench(1000, 100);
  if (only !== 'cli') {
    const dir10000 = await planBench(10_000, 1000);
    rmSync(dir10000, { recursive: true, force: true });
  }

  // CLI no-op on the 1,000-asset store, process start included, as users start it: from the
  // precompiled dist/ with compiled definitions (TypeScript definitions run the sources
  // through tsx), next to starting an empty Node process in the same run.
  if (!distIsCurrent()) {
    console.log('dist/ is older than the sources: building it first (npm run build)');
    execFileSync(process.execPath, [BUILD], { stdio: 'inherit' });
  }
  const cliEnv = { ...process.env, SYNTH_ASSETS: '1000', SYNTH_PARTITIONS: '10' };
  const timeRuns = (args: string[], env: NodeJS.ProcessEnv): number[] =>
    Array.from({ length: 5 }, () => {
      const t = performance.now();
      execFileSync(process.execPath, args, { env });
      return performance.now() - t;
    });
  const cliMs = median(timeRuns([CLI, '--definitions', COMPILED_DEFS, '--data-dir', dir1000, '--json'], cliEnv));
  const sourceMs = median(timeRuns([CLI, '--definitions', DEFS, '--data-dir', dir1000, '--json'], cliEnv));
  const emptyMs = median(timeRuns(['-e', ''], process.env));
  line('no-op `materialize` of 1,000 assets via the CLI, from dist/ (start incl.)', `${cliMs.toFixed(0)} ms`, '250 ms', cliMs < 250);
  console.log(
    `  = ${(cliMs / emptyMs).toFixed(1)}× \`node -e ''\` (${emptyMs.toFixed(0)} ms, same run); from the sources with TypeScript definitions: ${sourceMs.toFixed(0)} ms`,
  );
  rmSync(dir1000, { recursive: true, force: true });
  if (only === 'cli') return;

  // Recording materializations: one transaction each, with an input, and an event.
  {
    const dir = mkdtempSync(join(tmpdir(), 'bench-runtime-'));
    process.env.SYNTH_PARTITIONS = '10';
    const instance = await Instance.open(await loadDefs(10), { dataDir: dir });
    await instance.store.createRun({ id: 'bench', selection: '*', partitions: null, trigger: 'test', now: Date.now() });
    const upstream = await instance.store.commitMaterialization(record('synthetic/a0' as AssetKey, '', 'bench', '1' as CodeVersion, 'up' as DataVersion, []));
    const N = 10_000;
    const t = performance.now();
    for (let k = 0; k < N; k++) {
      await instance.store.commitMaterialization(
        record('synthetic/daily' as AssetKey, `p${k}`, 'bench', '1' as CodeVersion, `dv${k}` as DataVersion, [
          { asset: 'synthetic/a0' as AssetKey, partition: '', materializationId: upstream, dataVersion: 'up' as DataVersion },
        ]),
      );
    }
    const perSec = N / ((performance.now() - t) / 1000);
    line('recording 10,000 materializations (one transaction each)', `${perSec.toFixed(0)} /s`, '5000 /s', perSec > 5000);
    await instance.close();
    rmSync(dir, { recursive: true, force: true });
  }

  // status of one daily-partitioned asset with 3,650 partitions.
  {
    const dir = mkdtempSync(join(tmpdir(), 'bench-runtime-'));
    process.env.SYNTH_PARTITIONS = '3650';
    const defs = await loadDefs(10);
    const instance = await Instance.open(defs, { dataDir: dir });
    await fillFresh(instance);
    const times: number[] = [];
    let fresh = 0;
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      fresh = (await instance.status('synthetic/daily'))[0]!.fresh;
      times.push(performance.now() - t);
    }
    const ms = median(times);
    line('`status` of one daily asset with 3,650 partitions (in process)', `${ms.toFixed(1)} ms`, '200 ms', ms < 200 && fresh === 3650);
    const t2: number[] = [];
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      execFileSync(process.execPath, [CLI, 'status', 'synthetic/daily', '--definitions', DEFS, '--data-dir', dir], {
        env: { ...process.env, SYNTH_ASSETS: '10', SYNTH_PARTITIONS: '3650' },
      });
      t2.push(performance.now() - t);
    }
    line('`materialize status synthetic/daily` via the CLI (process start incl.)', `${median(t2).toFixed(0)} ms`, '-', true);
    const t3 = performance.now();
    const plan = await prepareRun(instance, {});
    line('plan of 3,650 fresh partitions + an all-partitions consumer', `${(performance.now() - t3).toFixed(1)} ms`, '-', plan.plan.counts.run === 0);
    await instance.close();
    rmSync(dir, { recursive: true, force: true });
  }

  await nodeDayBench(Number(process.env.BENCH_NODES ?? 100), 3650);
}

/** A node x day asset with every partition fresh (recorded directly), then status and a no-op plan of it. */
async function nodeDayBench(nodeCount: number, dayCount: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-runtime-'));
  const end = new Date(Date.UTC(2015, 0, 1) + (dayCount - 1) * 86_400_000).toISOString().slice(0, 10);
  const nodeDays = multiPartitions({
    node: staticPartitions(Array.from({ length: nodeCount }, (_, i) => `n${i}`)),
    day: dailyPartitions({ start: '2015-01-01', end }),
  });
  const prices = defineAsset({ key: 'bench/prices', partitions: nodeDays, codeVersion: '1', materialize: () => ({ value: 1 }) });
  const instance = await Instance.open(defineDefinitions({ assets: [prices] }), { dataDir: dir });
  await instance.store.createRun({ id: 'bench-fill', selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  const keys = nodeDays.keys(new Date());
  const t0 = performance.now();
  // Recorded a few at a time through the interface (each its own transaction, as a run commits them).
  for (let k = 0; k < keys.length; k += 64) {
    await Promise.all(
      keys
        .slice(k, k + 64)
        .map((p) => instance.store.commitMaterialization(record('bench/prices' as AssetKey, p, 'bench-fill', '1' as CodeVersion, `dv${p}` as DataVersion, []))),
    );
  }
  const fillS = (performance.now() - t0) / 1000;
  console.log(`  (recorded ${keys.length.toLocaleString('en-US')} node x day materializations in ${fillS.toFixed(1)} s)`);
  const times: number[] = [];
  let fresh = 0;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    fresh = (await instance.status('bench/prices'))[0]!.fresh;
    times.push(performance.now() - t);
  }
  const ms = median(times);
  line(`\`status\` of a node x day asset, ${nodeCount} x ${dayCount} (in process)`, `${ms.toFixed(0)} ms`, '-', fresh === keys.length);
  const t = performance.now();
  const plan = await prepareRun(instance, {});
  line(
    `plan of ${keys.length.toLocaleString('en-US')} fresh node x day partitions`,
    `${(performance.now() - t).toFixed(0)} ms`,
    '-',
    plan.plan.counts.run === 0,
  );
  await instance.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
