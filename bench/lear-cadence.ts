// Chooses the default run's LEAR calibration windows, refit interval and conformal calibration
// window on days BEFORE the backtest's test period (never on it), from the pjm/features files of
// a materialized store (figures printed, nothing asserted). Three stages, each short enough to
// run on its own, their results kept in bench/out/lear-cadence/:
//   --stage xgboost   the default XGBoost monthly walk-forward over the validation days
//   --stage lear      per window (--windows), LEAR fitted every --base days over the same days,
//                     each fit forecasting the --max-every days after it, with each fit's time
//   --stage report    for every refit interval (--every, multiples of --base) per window and
//                     every subset of the windows: the LEAR CWA's and the ensemble's MAE on the
//                     validation days, and what the choice would cost over the 728 test days
//                     (fits × the measured seconds per fit); then the conformal 50/90 % coverage
//                     of the best ensembles with calibration windows of --calibration days.
// The validation days default to the year before the test period from the first day every
// window has a whole calibration window (the 1456-day window never has one before 2016-12-27:
// the data start on 2013-01-01).
// Run: DATA_DIR=<a store after `npm run materialize`> OMP_WAIT_POLICY=passive \
//   npx tsx bench/lear-cadence.ts --stage xgboost|lear|report [--windows 56,84,728,1092] ...
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { walkForward } from '../assets/pjm/backtest/walk-forward.ts';
import { normaliseFeatureSet, type FeatureSet } from '../assets/pjm/features/columns.ts';
import { completeDays, learPanelsFromFeatures } from '../assets/pjm/lear/features-panel.ts';
import { completePrefix, learFeatureMatrixSafe } from '../assets/pjm/lear/walk-forward.ts';
import { readFeatureTable } from '../assets/pjm/model/dataset.ts';
import { defaultSettingsFor } from '../assets/pjm/model/settings.ts';
import { dayNumberOf, dayOfNumber } from '../lib/days.ts';
import { conformalQuantiles, intervalCoverage, pinballLoss } from '../lib/forecast-eval/index.ts';
import { fitLear, predictLear } from '../lib/lear/index.ts';
import { configureXGBoost } from '../lib/xgboost/config.ts';
import { duckdbConnect } from '../runtime/duckdb.ts';
import { ompWaitPolicy } from '../runtime/settings.ts';

configureXGBoost({ ompWaitPolicy: ompWaitPolicy(process.env) });

/** The windows the choice is made among by default: epftoolbox's, less 1456 (never whole before the test period), and 728. */
const CANDIDATE_WINDOWS = [56, 84, 728, 1092];
const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    windows: { type: 'string', default: CANDIDATE_WINDOWS.join(',') },
    base: { type: 'string', default: '7' },
    every: { type: 'string', default: '7,14,28,56' },
    'max-every': { type: 'string', default: '56' },
    from: { type: 'string' },
    to: { type: 'string', default: '2016-12-26' },
    'test-days': { type: 'string', default: '728' },
    calibration: { type: 'string', default: '56,91,182,365' },
  },
});
const ints = (name: keyof typeof values): number[] =>
  String(values[name])
    .split(',')
    .map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`bench/lear-cadence: --${name} takes positive whole numbers, got "${v}".`);
      return n;
    });
const out = join(new URL('..', import.meta.url).pathname, 'bench/out/lear-cadence');
mkdirSync(out, { recursive: true });
const load = () => `load average ${loadavg()[0]!.toFixed(1)}`;

/** The store's pjm/features files (one version each) and its feature set. */
async function readStoreTable() {
  const dataDir = process.env.DATA_DIR;
  const featuresDir = dataDir === undefined ? '' : join(dataDir, 'assets/pjm/features');
  if (!existsSync(featuresDir))
    throw new Error(
      `bench/lear-cadence: set DATA_DIR to a store holding pjm/features (looked for ${featuresDir || 'DATA_DIR unset'}); run \`npm run materialize\` into it first.`,
    );
  const files = readdirSync(featuresDir)
    .sort()
    .map((partition) => {
      const versions = readdirSync(join(featuresDir, partition));
      if (versions.length !== 1)
        throw new Error(`bench/lear-cadence: ${join(featuresDir, partition)} holds ${versions.length} versions; use a store materialized once.`);
      return join(featuresDir, partition, versions[0]!);
    });
  const setFiles = readdirSync(join(dataDir!, 'assets/pjm/feature_set'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  if (setFiles.length !== 1) throw new Error(`bench/lear-cadence: expected one pjm/feature_set version, found ${setFiles.length}.`);
  const set = normaliseFeatureSet(JSON.parse(readFileSync(join(setFiles[0]!.parentPath, setFiles[0]!.name), 'utf8')) as FeatureSet);
  const conn = await duckdbConnect();
  return { table: await readFeatureTable(conn, files, set), set };
}

const { table, set } = await readStoreTable();
const [node] = learPanelsFromFeatures(table);
if (!node) throw new Error('bench/lear-cadence: the store has no feature rows.');
const windows = ints('windows');
const lastDay = dayNumberOf(values.to!);
// The first validation day: every candidate window whole (the panel's first day + the longest),
// whichever windows this stage runs, so the stages of one choice cover the same days.
const firstDay = values.from ? dayNumberOf(values.from) : node.firstDayNumber + Math.max(...CANDIDATE_WINDOWS, ...windows);
const days = lastDay - firstDay + 1;
const period = `${dayOfNumber(firstDay)}..${dayOfNumber(lastDay)} (${days} days)`;

if (values.stage === 'xgboost') {
  const t0 = performance.now();
  const r = await walkForward(table, {
    testFirstDay: dayOfNumber(firstDay),
    testLastDay: dayOfNumber(lastDay),
    recalibration: 'monthly',
    window: { kind: 'expanding' },
    settings: defaultSettingsFor(set),
  });
  const forecast = new Float64Array(days * 24).fill(Number.NaN);
  const actual = new Float64Array(days * 24).fill(Number.NaN);
  for (const h of r.forecasts) {
    const i = (dayNumberOf(h.day) - firstDay) * 24 + h.hour;
    forecast[i] = h.forecast;
    actual[i] = h.actual;
  }
  writeFileSync(join(out, 'xgboost.json'), JSON.stringify({ firstDay, days, forecast: [...forecast], actual: [...actual] }));
  console.log(
    `XGBoost monthly on ${period}: MAE ${r.metrics.overall.mae.toFixed(3)}, ${r.blocks.length} retrains, ${((performance.now() - t0) / 1000).toFixed(1)} s (${load()})`,
  );
} else if (values.stage === 'lear') {
  const base = Number(values.base);
  const maxEvery = Number(values['max-every']);
  const { panel } = node;
  const prefix = completePrefix(completeDays(panel));
  const features = learFeatureMatrixSafe(panel);
  for (const window of windows) {
    const fitSeconds: number[] = [];
    // preds[k]: the fit made before validation day k·base, forecasting days k·base .. k·base + maxEvery - 1.
    const preds: number[][] = [];
    for (let t = 0; t < days; t += base) {
      const d = firstDay + t - node.firstDayNumber;
      if (d - window < 0 || prefix[d]! - prefix[d - window]! !== window)
        throw new Error(`window ${window} is not whole before ${dayOfNumber(firstDay + t)}; start later (--from).`);
      const t0 = performance.now();
      const model = fitLear({ panel, lastTrainDay: d - 1, window, features });
      fitSeconds.push((performance.now() - t0) / 1000);
      const f: number[] = [];
      for (let k = 0; k < maxEvery && d + k < panel.days.length && t + k < days; k++) f.push(...predictLear(model, panel, d + k, features));
      preds.push(f);
    }
    writeFileSync(join(out, `lear-${window}.json`), JSON.stringify({ window, base, maxEvery, firstDay, days, fitSeconds, preds }));
    const mean = fitSeconds.reduce((a, b) => a + b, 0) / fitSeconds.length;
    console.log(`LEAR ${window} days on ${period}: ${fitSeconds.length} fits, ${mean.toFixed(2)} s each on average (${load()})`);
  }
} else if (values.stage === 'report') {
  const xgb = JSON.parse(readFileSync(join(out, 'xgboost.json'), 'utf8')) as { firstDay: number; days: number; forecast: number[]; actual: number[] };
  if (xgb.firstDay !== firstDay || xgb.days !== days)
    throw new Error('bench/lear-cadence: the xgboost stage ran on other days; rerun it with the same --from/--to.');
  const lear = windows.map((w) => {
    const l = JSON.parse(readFileSync(join(out, `lear-${w}.json`), 'utf8')) as {
      base: number;
      maxEvery: number;
      firstDay: number;
      fitSeconds: number[];
      preds: number[][];
    };
    if (l.firstDay !== firstDay) throw new Error(`bench/lear-cadence: lear-${w}.json is of other days; rerun --stage lear.`);
    return { window: w, ...l, secondsPerFit: l.fitSeconds.reduce((a, b) => a + b, 0) / l.fitSeconds.length };
  });
  const everies = ints('every');
  for (const e of everies)
    for (const l of lear) if (e % l.base !== 0 || e > l.maxEvery) throw new Error(`--every ${e} is not a multiple of --base ${l.base} up to ${l.maxEvery}.`);
  const testDays = Number(values['test-days']);
  // The forecast of validation hour i by window w refitted every e days: the fit of day ⌊t/e⌋·e.
  const forecastOf = (l: (typeof lear)[number], e: number): Float64Array => {
    const f = new Float64Array(days * 24);
    for (let t = 0; t < days; t++) {
      const r = Math.floor(t / e) * e;
      const p = l.preds[r / l.base]!;
      for (let h = 0; h < 24; h++) f[t * 24 + h] = p[(t - r) * 24 + h]!;
    }
    return f;
  };
  const byWindow = new Map(lear.map((l) => [l.window, new Map(everies.map((e) => [e, forecastOf(l, e)]))]));
  const maeOf = (f: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < f.length; i++) s += Math.abs(xgb.actual[i]! - f[i]!);
    return s / f.length;
  };
  console.log(`Validation ${period}, ${load()}. XGBoost alone: MAE ${maeOf(xgb.forecast).toFixed(3)}`);
  for (const l of lear)
    console.log(
      `  LEAR ${String(l.window).padStart(4)} days: ${l.secondsPerFit.toFixed(2)} s per fit; MAE by refit interval ${everies.map((e) => `${e}: ${maeOf(byWindow.get(l.window)!.get(e)!).toFixed(3)}`).join(', ')}`,
    );
  interface Choice {
    readonly name: string;
    readonly cost: number;
    readonly lear: number;
    readonly ensemble: number;
    readonly values: Float64Array;
  }
  const choices: Choice[] = [];
  // Every non-empty subset of the windows, each window with its own refit interval.
  const assign = (k: number, picked: Array<[number, number]>): void => {
    if (k === lear.length) {
      if (picked.length === 0) return;
      const cwa = new Float64Array(days * 24);
      for (const [w, e] of picked) {
        const f = byWindow.get(w)!.get(e)!;
        for (let i = 0; i < cwa.length; i++) cwa[i]! += f[i]! / picked.length;
      }
      const ens = Float64Array.from(cwa, (v, i) => (v + xgb.forecast[i]!) / 2);
      const cost = picked.reduce((s, [w, e]) => s + Math.ceil(testDays / e) * lear.find((l) => l.window === w)!.secondsPerFit, 0);
      choices.push({ name: picked.map(([w, e]) => `${w}/${e}`).join(' '), cost, lear: maeOf(cwa), ensemble: maeOf(ens), values: ens });
      return;
    }
    assign(k + 1, picked);
    for (const e of everies) assign(k + 1, [...picked, [lear[k]!.window, e]]);
  };
  assign(0, []);
  // The Pareto front: each choice no other beats on both cost and ensemble MAE.
  const front = choices
    .filter((c) => !choices.some((o) => o.cost <= c.cost && o.ensemble < c.ensemble && (o.cost < c.cost || o.ensemble < c.ensemble)))
    .sort((a, b) => a.cost - b.cost);
  console.log(
    `\n${choices.length} choices (window/refit days); the cheapest for each validation ensemble MAE (cost: LEAR fit seconds over ${testDays} test days):`,
  );
  for (const c of front)
    console.log(`  ${c.name.padEnd(34)} cost ${c.cost.toFixed(1).padStart(6)} s   LEAR ${c.lear.toFixed(3)}   ensemble ${c.ensemble.toFixed(3)}`);
  const sameEvery = choices.filter((c) => new Set(c.name.split(' ').map((p) => p.split('/')[1])).size === 1 && c.name.split(' ').length === lear.length);
  console.log('\nEvery window, one refit interval:');
  for (const c of sameEvery.sort((a, b) => a.cost - b.cost))
    console.log(`  ${c.name.padEnd(34)} cost ${c.cost.toFixed(1).padStart(6)} s   LEAR ${c.lear.toFixed(3)}   ensemble ${c.ensemble.toFixed(3)}`);
  // Conformal coverage of a few front choices' ensembles, per calibration window, as families.ts computes it.
  console.log('\nConformal quantiles per hour (warm-up 56 days, at least 30 residuals), coverage 50 % / 90 % and pinball:');
  const warm = 56;
  for (const c of [...front.slice(-3), { name: 'XGBoost alone', values: Float64Array.from(xgb.forecast) }]) {
    const cells = ints('calibration').map((window) => {
      const q = conformalQuantiles({ forecast: c.values, actual: xgb.actual, window, firstDay: warm, minCalibration: Math.min(30, window) });
      const a = xgb.actual.slice(warm * 24);
      return `${window} d: ${(100 * intervalCoverage(a, q, 0.5)).toFixed(1)} / ${(100 * intervalCoverage(a, q, 0.9)).toFixed(1)} % ${pinballLoss(a, q).toFixed(3)}`;
    });
    console.log(`  ${c.name.padEnd(34)} ${cells.join('   ')}`);
    // Adaptive conformal inference (Gibbs & Candès 2021) on the 182-day window: each hour's level moves by γ(τ − 1{y ≤ q}) after each day.
    const aci = [0.002, 0.005, 0.01, 0.02].map((gamma) => {
      const q = conformalQuantiles({ forecast: c.values, actual: xgb.actual, window: 182, firstDay: warm, minCalibration: 30, adaptive: { gamma } });
      const a = xgb.actual.slice(warm * 24);
      return `γ ${gamma}: ${(100 * intervalCoverage(a, q, 0.5)).toFixed(1)} / ${(100 * intervalCoverage(a, q, 0.9)).toFixed(1)} % ${pinballLoss(a, q).toFixed(3)}`;
    });
    console.log(`  ${''.padEnd(34)} ACI ${aci.join('   ')}`);
  }
} else {
  throw new Error('bench/lear-cadence: --stage must be xgboost, lear or report.');
}
