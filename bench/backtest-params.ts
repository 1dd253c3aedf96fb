// XGBoost parameter trials on the default monthly walk-forward (figures printed, nothing asserted):
// reads the pjm/features files of a materialized store and runs the backtest once per variant,
// printing its MAE, wall and CPU time, so a change to DEFAULT_PARAMS is measured before it is made.
// Run: DATA_DIR=<a store after `npm run materialize`> OMP_WAIT_POLICY=passive \
//   npx tsx bench/backtest-params.ts '{"base":{},"subsample 0.6":{"subsample":0.6}}'
// PARALLEL_BLOCKS (default 2) sets how many retrains run at once.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { walkForward } from '../assets/pjm/backtest/walk-forward.ts';
import { readFeatureTable } from '../assets/pjm/model/dataset.ts';
import { DEFAULT_SETTINGS } from '../assets/pjm/model/settings.ts';
import { duckdbConnect } from '../runtime/duckdb.ts';
import { configureXGBoost } from '../lib/xgboost/config.ts';
import { ompWaitPolicy } from '../runtime/settings.ts';

// Like the CLI and the server: OpenMP's idle policy from the one settings loader, before XGBoost loads.
configureXGBoost({ ompWaitPolicy: ompWaitPolicy(process.env) });

const dataDir = process.env.DATA_DIR;
const featuresDir = dataDir === undefined ? '' : join(dataDir, 'assets/pjm/features');
if (!existsSync(featuresDir))
  throw new Error(
    `bench/backtest-params.ts: set DATA_DIR to a store holding pjm/features (looked for ${featuresDir || 'DATA_DIR unset'}); run \`npm run materialize\` into it first.`,
  );
const variantsArg = process.argv[2];
if (variantsArg === undefined) throw new Error('bench/backtest-params.ts: give the variants as JSON, e.g. \'{"base":{},"subsample 0.6":{"subsample":0.6}}\'.');
const variants = JSON.parse(variantsArg) as Record<string, Record<string, number | string>>;

// A store materialized once holds one file per partition; with more, which is current is the
// lineage store's to say, so the bench refuses rather than guess.
const files = readdirSync(featuresDir)
  .sort()
  .map((partition) => {
    const versions = readdirSync(join(featuresDir, partition));
    if (versions.length !== 1)
      throw new Error(`bench/backtest-params.ts: ${join(featuresDir, partition)} holds ${versions.length} versions; use a store materialized once from empty.`);
    return join(featuresDir, partition, versions[0]!);
  });
const conn = await duckdbConnect();
const table = await readFeatureTable(conn, files, 'da');
const parallelBlocks = Number(process.env.PARALLEL_BLOCKS ?? 2);
for (const [name, params] of Object.entries(variants)) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const settings = { ...DEFAULT_SETTINGS, params: { ...DEFAULT_SETTINGS.params, ...params } };
  const result = await walkForward(table, {
    testFirstDay: '2016-12-27',
    testLastDay: '2018-12-24',
    recalibration: 'monthly',
    window: { kind: 'expanding' },
    settings,
    parallelBlocks,
  });
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${name.padEnd(28)} MAE ${result.metrics.overall.mae.toFixed(4)}  wall ${((performance.now() - t0) / 1000).toFixed(1)} s  cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`,
  );
}
