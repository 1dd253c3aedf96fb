// LEAR on the pipeline's own features and the ensemble's pure parts, on the committed
// epftoolbox slice (PJM-2016-10-29_2017-03-14.csv): the panel built from pjm/features rows is
// the epftoolbox panel itself (prices, system and zonal load forecasts), so LEAR on our
// features forecasts exactly what LEAR on epftoolbox's CSV does; the family mean, the
// conformal calibration, the backtest's per-hour online quantiles and the PJM_* model settings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFeatures } from '../../assets/pjm/features/index.ts';
import { dayNumberOf, dayOfNumber } from '../../lib/days.ts';
import { readFeatureTable, rowsBetween, type FeatureTable } from '../../assets/pjm/model/dataset.ts';
import { familyBacktest } from '../../assets/pjm/backtest/families.ts';
import type { ForecastHour } from '../../assets/pjm/backtest/walk-forward.ts';
import { conformalQuantile, QUANTILE_LEVELS } from '../../lib/forecast-eval/index.ts';
import { completeDays, learExogenousColumns, learPanelsFromFeatures } from '../../assets/pjm/lear/features-panel.ts';
import { learKey, learWalkForwardOnTable } from '../../assets/pjm/lear/walk-forward.ts';
import { runLearOffThread, stretchesOf } from '../../assets/pjm/lear/off-thread.ts';
import { readEpftoolboxPanel } from '../../assets/pjm/lear/epftoolbox-panel.ts';
import { combineFamilies, equalWeights, familiesOf, servedValues } from '../../assets/pjm/model/ensemble.ts';
import { decodeLearArtifact, encodeLearArtifact, fitServedLear, learForecastDay, learInputDays, servedLear } from '../../assets/pjm/lear/served.ts';
import { concatFeatureTables } from '../../assets/pjm/model/dataset.ts';
import { fitLear, predictLear } from '../../lib/lear/index.ts';
import { conformalCalibration, quantilesAt, type HourResidual } from '../../assets/pjm/model/calibration.ts';
import { loadPjmConfig } from '../../assets/pjm/config.ts';
import { learWalkForward } from '../../lib/lear/index.ts';
import { COMED, FIXTURE_CSV, openFixture, type FixtureContext } from './helpers/fixture.ts';

let fx: FixtureContext;
let table: FeatureTable;

test.before(async () => {
  fx = await openFixture();
  const path = `${fx.dir}/features.parquet`;
  await buildFeatures(fx.conn, { pricesParquet: [fx.pricesParquet], loadParquet: [fx.loadParquet], market: 'da', outPath: path });
  table = await readFeatureTable(fx.conn, path, 'da');
});
test.after(() => fx.cleanup());

test('the exogenous series follow the feature set: DA price for RT, load forecasts, metered load', () => {
  assert.equal(learExogenousColumns({ market: 'da', inputs: ['price_lags'], loadForecastArea: null, loadMeteredArea: null }), []);
  assert.equal(
    learExogenousColumns({
      market: 'rt',
      inputs: ['price_lags', 'da_price', 'load_forecast', 'load_metered'],
      loadForecastArea: 'RTO',
      loadMeteredArea: 'RTO',
    }),
    ['da_price_h', 'load_sys_h', 'load_zone_h', 'mload_lag1_h'],
  );
});

test('the panel from our feature rows is the epftoolbox panel: same prices and load forecasts, day by day', () => {
  const panels = learPanelsFromFeatures(table);
  assert.is(panels.length, 1);
  const [p] = panels;
  assert.is(p!.nodeId, COMED);
  assert.equal(p!.exogenousColumns, ['load_sys_h', 'load_zone_h']);
  const epf = readEpftoolboxPanel(FIXTURE_CSV);
  const offset = epf.days.indexOf(p!.panel.days[0]!);
  assert.ok(offset > 0, `the features start after the CSV (${p!.panel.days[0]})`);
  assert.is(p!.panel.days[p!.panel.days.length - 1], epf.days[epf.days.length - 1]);
  for (let d = 0; d < p!.panel.days.length; d++) {
    for (let h = 0; h < 24; h++) {
      const i = (offset + d) * 24 + h;
      assert.ok(Math.abs(p!.panel.prices[d * 24 + h]! - epf.prices[i]!) < 1e-9, `price ${p!.panel.days[d]} h${h}`);
      // 02:00 of the spring-forward day never happened: the source drops epftoolbox's row and
      // the features fill the grid hour with the mean of 01:00 and 03:00 (features/sql.ts).
      const springGap = p!.panel.days[d] === '2017-03-12' && h === 2;
      for (let k = 0; k < 2; k++) {
        const want = springGap ? (epf.exogenous[k]![i - 1]! + epf.exogenous[k]![i + 1]!) / 2 : epf.exogenous[k]![i]!;
        assert.ok(
          Math.abs(p!.panel.exogenous[k]![d * 24 + h]! - want) < 1e-6,
          `exog ${k} ${p!.panel.days[d]} h${h}: ${p!.panel.exogenous[k]![d * 24 + h]} vs ${want}`,
        );
      }
    }
  }
  assert.ok(completeDays(p!.panel).every((c) => c === 1));
});

test('a day without feature rows leaves a gap LEAR skips, and the lag profiles of later days fill prices whose target is unknown', () => {
  const gapDay = dayNumberOf('2017-01-10');
  const keep: number[] = [];
  for (let i = 0; i < table.rows; i++) if (table.dayNumber[i] !== gapDay) keep.push(i);
  const cut = subset(table, keep);
  const [p] = learPanelsFromFeatures(cut);
  const d = gapDay - p!.firstDayNumber;
  // Its prices come back from the lag profiles of D+1 (and later), its load forecasts cannot.
  const [full] = learPanelsFromFeatures(table);
  for (let h = 0; h < 24; h++) assert.is(p!.panel.prices[d * 24 + h], full!.panel.prices[d * 24 + h]);
  assert.ok(Number.isNaN(p!.panel.exogenous[0]![d * 24]!));
  assert.is(completeDays(p!.panel)[d], 0);
});

test('LEAR on our features forecasts what LEAR on the epftoolbox CSV does (56-day window, daily refits)', () => {
  const first = dayNumberOf('2017-03-08');
  const last = dayNumberOf('2017-03-10');
  const ours = learWalkForwardOnTable(table, { firstDay: first, lastDay: last, windows: [56], every: 1 });
  assert.is(ours.missingDays, 0);
  assert.is(ours.fits, 3);
  const epf = readEpftoolboxPanel(FIXTURE_CSV);
  const theirs = learWalkForward({ panel: epf, firstDay: epf.days.indexOf('2017-03-08'), lastDay: epf.days.indexOf('2017-03-10'), windows: [56] });
  for (let t = 0; t < 3; t++) {
    const f = ours.cwa.get(learKey(COMED, first + t))!;
    for (let h = 0; h < 24; h++) assert.ok(Math.abs(f[h]! - theirs.cwa[t * 24 + h]!) < 1e-6, `day ${t} hour ${h}: ${f[h]} vs ${theirs.cwa[t * 24 + h]}`);
  }
});

test("the backtest's LEAR worker thread: the same walk-forward and served fits as on the main thread, and an abort stops it", async () => {
  const first = dayNumberOf('2017-03-01');
  const last = dayNumberOf('2017-03-10');
  // The 28-day window refits every 2 days, the 56-day one every 4: stretches start on multiples of 4.
  const job = { panels: learPanelsFromFeatures(table), walkForward: { firstDay: first, lastDay: last, windows: [28, 56], every: [2, 4] }, served: true };
  const off = await runLearOffThread(job, { workers: 2 });
  const here = learWalkForwardOnTable(table, job.walkForward);
  // 10 days: refits on days 0, 2, 4, 6, 8 and 0, 4, 8; two workers, days 0-7 and 8-9.
  assert.equal(stretchesOf(first, last, 4, 2), [
    [first, first + 7],
    [first + 8, last],
  ]);
  assert.equal(stretchesOf(first, last, 1, 3), [
    [first, first + 3],
    [first + 4, first + 7],
    [first + 8, last],
  ]);
  assert.is(off.run.fits, 8);
  assert.is(off.run.fits, here.fits);
  assert.equal([...off.run.cwa.keys()], [...here.cwa.keys()]);
  for (const [k, f] of here.cwa) assert.equal([...off.run.cwa.get(k)!], [...f], `day ${k}`);
  assert.equal(off.served, fitServedLear(table, [28, 56]));
  // Without the served fit, none comes back.
  assert.is((await runLearOffThread({ ...job, served: false })).served, null);
  const stop = new AbortController();
  const pending = runLearOffThread({ ...job, walkForward: { ...job.walkForward, every: 1 } }, { signal: stop.signal });
  stop.abort(new Error('canceled by the test'));
  await pending.then(
    () => assert.unreachable('an aborted job must not resolve'),
    (err: Error) => assert.match(err.message, /canceled by the test/),
  );
});

test('the family mean: 0.5/0.5, and the other family alone where one has no forecast', () => {
  assert.equal(familiesOf('ensemble'), ['xgboost', 'lear']);
  const w = equalWeights(familiesOf('ensemble'));
  const r = combineFamilies([
    { family: 'xgboost', weight: w.xgboost, values: [30, 40, 50] },
    { family: 'lear', weight: w.lear, values: [34, Number.NaN, 46] },
  ]);
  assert.equal([...r.values], [32, 40, 48]);
  assert.is(r.fallbackHours, 1);
  assert.throws(
    () =>
      combineFamilies([
        { family: 'xgboost', weight: 1, values: [1] },
        { family: 'lear', weight: 1, values: [1, 2] },
      ]),
    /same hours/,
  );
});

test('the served rule: XGBoost alone; LEAR, XGBoost where LEAR has none; the ensemble mean, XGBoost alone where LEAR has none', () => {
  const xgb = [10, 20, 30];
  const lear = [14, Number.NaN, 26];
  assert.equal([...servedValues('xgboost', xgb, lear).values], xgb);
  assert.equal(servedValues('lear', xgb, lear), { values: Float64Array.from([14, 20, 26]), fallbackHours: 1 });
  assert.equal(servedValues('ensemble', xgb, lear), { values: Float64Array.from([12, 20, 28]), fallbackHours: 1 });
});

test('CWA needs every window: a node whose history is shorter than one of them has no LEAR forecast (in the backtest and served), its shorter windows still forecast alone', () => {
  // The fixture holds ~137 days: a 56-day window is whole by March 2017, a 365-day one never.
  const first = dayNumberOf('2017-03-08');
  const last = dayNumberOf('2017-03-10');
  const run = learWalkForwardOnTable(table, { firstDay: first, lastDay: last, windows: [56, 365], every: 1 });
  assert.equal([run.cwa.size, run.missingDays, run.byWindow[0]!.size, run.byWindow[1]!.size], [0, 3, 3, 0]);
  const served = servedLear(fitServedLear(table, [56, 365]));
  assert.equal(served.artifact.nodes[0]!.windows, []);
  const forecast = learForecastDay(served, COMED, '2017-03-10', table);
  assert.is(forecast.ok, false);
  assert.match(forecast.ok ? '' : forecast.reason, /does not hold a whole stretch of every calibration window, 56\/365 days/);
});

test('the served LEAR: each window fitted on its latest whole days, forecasting a day from the rows of D-7, D-1 and D alone as from the whole panel, through its stored file', () => {
  const windows = [28, 56];
  const artifact = decodeLearArtifact(encodeLearArtifact(fitServedLear(table, windows)), 'test');
  const node = artifact.nodes[0]!;
  assert.is(node.nodeId, COMED);
  assert.equal(node.exogenousColumns, ['load_sys_h', 'load_zone_h']);
  const { panel, firstDayNumber } = learPanelsFromFeatures(table)[0]!;
  const lastDay = dayOfNumber(firstDayNumber + panel.days.length - 1);
  assert.equal(
    node.windows.map((w) => [w.window, w.lastDay]),
    windows.map((w) => [w, lastDay]),
  );
  const day = '2017-02-15';
  const served = servedLear(artifact);
  assert.equal(learInputDays(served, COMED, day), ['2017-02-08', '2017-02-14', day]);
  const slices = learInputDays(served, COMED, day).map((d) => {
    const { start, end } = rowsBetween(table, dayNumberOf(d), dayNumberOf(d));
    return nodeSlice(table, start, end);
  });
  const got = learForecastDay(served, COMED, day, concatFeatureTables(slices));
  assert.ok(got.ok);
  const d = dayNumberOf(day) - firstDayNumber;
  const perWindow = windows.map((w) => predictLear(fitLear({ panel, lastTrainDay: panel.days.length - 1, window: w }), panel, d));
  for (let h = 0; h < 24; h++) assert.ok(Math.abs(got.ok ? got.values[h]! - (perWindow[0]![h]! + perWindow[1]![h]!) / 2 : Number.NaN) < 1e-9, `hour ${h}`);
  // Without D-7's rows its load forecasts are missing: no LEAR forecast, and why.
  const short = learForecastDay(served, COMED, day, concatFeatureTables(slices.slice(1)));
  assert.not.ok(short.ok);
  assert.match(short.ok ? '' : short.reason, /input exog0_d7_h00 of day 2017-02-15 is NaN/);
  // A damaged file names the field.
  const bad = JSON.parse(Buffer.from(encodeLearArtifact(artifact)).toString('utf8'));
  bad.nodes[0].windows[1].coef[3].pop();
  assert.throws(
    () => decodeLearArtifact(Buffer.from(JSON.stringify(bad)), 'pjm/model materialization 9, m.lear.json'),
    /pjm\/model materialization 9, m\.lear\.json: the LEAR members' nodes\[0\]\.windows\[1\]\.coef\[3\] is not \d+ finite numbers/,
  );
});

/** Rows start..end of a table, as their own table. */
function nodeSlice(t: FeatureTable, start: number, end: number): FeatureTable {
  return {
    ...t,
    nodeId: t.nodeId.slice(start, end),
    dayNumber: t.dayNumber.slice(start, end),
    hour: t.hour.slice(start, end),
    target: t.target.slice(start, end),
    features: Object.fromEntries(Object.entries(t.features).map(([k, v]) => [k, v.slice(start, end)])),
    rows: end - start,
  };
}

test('conformal calibration per hour: the residual quantiles of the last days, monotone in the level', () => {
  // Hour h's residuals over 20 days are 1..20 (+h): the 50 % quantile is the ⌈21·0.5⌉ = 11th value.
  const hours: HourResidual[] = [];
  for (let d = 0; d < 30; d++) {
    for (let h = 0; h < 24; h++)
      hours.push({ day: `2017-01-${String(d + 1).padStart(2, '0')}`, hour: h, actual: 100 + ((d - 10) % 20) + 1 + h, forecast: 100 });
  }
  const cal = conformalCalibration(hours, { days: 20 });
  assert.is(cal.firstDay, '2017-01-11');
  assert.is(cal.residualsPerHour, 20);
  assert.is(cal.offsets[0]![3], 11); // level 0.5
  assert.is(cal.offsets[5]![3], 16);
  const q = quantilesAt(cal, 0, 40);
  for (let k = 1; k < q.length; k++) assert.ok(q[k]! >= q[k - 1]!);
  assert.is(q[0], 40 + 1); // level 0.05: ⌊21·0.05⌋ = 1st value
  assert.throws(() => conformalCalibration(hours.slice(0, 24 * 3)), /fewer than 7/);
});

test("the backtest's hours carry online conformal quantiles: none in the warm-up, then forecast + the past residuals' quantiles", () => {
  // XGBoost alone (no LEAR fits), its "forecasts" the D-1 price of the same hour over 40 days.
  const { start, end } = rowsBetween(table, dayNumberOf('2016-12-01'), dayNumberOf('2017-01-09'));
  const hours: ForecastHour[] = [];
  for (let i = start; i < end; i++) {
    const lag1 = table.features['price_lag1_h']![i]!;
    hours.push({
      nodeId: table.nodeId[i]!,
      day: dayOfNumber(table.dayNumber[i]!),
      hour: table.hour[i]!,
      actual: table.target[i]!,
      forecast: lag1,
      naive: lag1,
    });
  }
  const { chosen, report } = familyBacktest({ table, xgboost: hours, settings: { families: 'xgboost', learWindows: [56], learEveryDays: [1] } });
  const warm = 20; // min(56, 40 days / 2)
  const days = [...new Set(hours.map((h) => h.day))].sort();
  assert.is(days.length, 40);
  assert.ok(report.quantiles.conformal, 'scored');
  for (const h of chosen) {
    const d = days.indexOf(h.day);
    if (d < warm) {
      assert.is(h.quantiles, undefined, `${h.day} h${h.hour}: warm-up, no quantiles`);
      continue;
    }
    assert.is(h.quantiles!.length, QUANTILE_LEVELS.length);
    for (let k = 1; k < h.quantiles!.length; k++) assert.ok(h.quantiles![k]! >= h.quantiles![k - 1]!, `${h.day} h${h.hour}: monotone`);
    // Only the days before it: the same hour's residuals of days 0..d-1 (all of them, fewer than the 182-day window).
    const past = Float64Array.from(chosen.filter((p) => p.hour === h.hour && days.indexOf(p.day) < d).map((p) => p.actual - p.forecast)).sort();
    QUANTILE_LEVELS.forEach((t, k) => {
      assert.ok(Math.abs(h.quantiles![k]! - (h.forecast + conformalQuantile(past, t))) < 1e-9, `${h.day} h${h.hour} level ${t}`);
    });
  }
});

test('PJM_MODEL_FAMILIES, PJM_LEAR_WINDOWS and PJM_MODEL_MAX_WORSE: defaults and clear errors', () => {
  const d = loadPjmConfig({}).model;
  assert.equal(d, { families: 'ensemble', learWindows: [56, 1092], learEveryDays: [7, 56], maxWorse: 0.02 });
  // Refit intervals: by window length when not given, one for all, or one per window.
  assert.equal(loadPjmConfig({ PJM_LEAR_WINDOWS: '56,84,1092,1456' }).model.learEveryDays, [7, 7, 56, 56]);
  assert.equal(loadPjmConfig({ PJM_LEAR_RECALIBRATION_DAYS: '28' }).model.learEveryDays, [28, 28]);
  assert.equal(loadPjmConfig({ PJM_LEAR_RECALIBRATION_DAYS: '1,14' }).model.learEveryDays, [1, 14]);
  assert.throws(() => loadPjmConfig({ PJM_LEAR_RECALIBRATION_DAYS: '7,7,7' }), /PJM_LEAR_RECALIBRATION_DAYS.*one per window of PJM_LEAR_WINDOWS \(56,1092\)/);
  assert.throws(() => loadPjmConfig({ PJM_LEAR_RECALIBRATION_DAYS: '0' }), /PJM_LEAR_RECALIBRATION_DAYS/);
  assert.equal(
    loadPjmConfig({ PJM_LEAR_WINDOWS: '56,84,1092,1456', PJM_MODEL_MAX_WORSE: 'off', PJM_MODEL_FAMILIES: 'xgboost' }).model.learWindows,
    [56, 84, 1092, 1456],
  );
  assert.is(loadPjmConfig({ PJM_MODEL_MAX_WORSE: 'off' }).model.maxWorse, null);
  assert.throws(() => loadPjmConfig({ PJM_LEAR_WINDOWS: '56,5' }), /PJM_LEAR_WINDOWS/);
  assert.throws(() => loadPjmConfig({ PJM_MODEL_FAMILIES: 'dnn' }), /PJM_MODEL_FAMILIES/);
  assert.throws(() => loadPjmConfig({ PJM_MODEL_MAX_WORSE: '-1' }), /PJM_MODEL_MAX_WORSE/);
});

function subset(t: FeatureTable, keep: readonly number[]): FeatureTable {
  const f64 = (a: Float64Array) => Float64Array.from(keep, (i) => a[i]!);
  return {
    ...t,
    nodeId: f64(t.nodeId),
    dayNumber: Int32Array.from(keep, (i) => t.dayNumber[i]!),
    hour: Int32Array.from(keep, (i) => t.hour[i]!),
    target: f64(t.target),
    features: Object.fromEntries(Object.entries(t.features).map(([k, v]) => [k, f64(v)])),
    rows: keep.length,
  };
}

test.run();
