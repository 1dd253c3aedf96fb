// A short walk-forward backtest, the saved model and the latest forecast, on the committed
// epftoolbox slice: blocks never train on what they forecast, the published forecasts are
// scored on the same hours, the model survives a save/load, forecasts land on real UTC hours.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFeatures } from '../../assets/pjm/features/index.ts';
import { walkForward, testBlocks, scorePublishedForecasts, comparisonRows, formatComparisonTable, backtest } from '../../assets/pjm/backtest/index.ts';
import { dayNumberOf, dayOfNumber } from '../../lib/days.ts';
import { readFeatureTable, rowsBetween, type FeatureTable } from '../../assets/pjm/model/dataset.ts';
import { conformalCalibration } from '../../assets/pjm/model/calibration.ts';
import { trainModel, predictRows, disposeModel } from '../../assets/pjm/model/train.ts';
import { modelFiles, loadModel } from '../../assets/pjm/model/persist.ts';
import { forecastDay, latestForecast, QUANTILE_COLUMNS } from '../../assets/pjm/forecast/forecast.ts';
import type { TrainSettings } from '../../assets/pjm/model/settings.ts';
import { COMED, openFixture, SMALL, type FixtureContext } from './helpers/fixture.ts';

const PUBLISHED = new URL('../fixtures/pjm-forecasting/Forecasts_PJM_DNN_LEAR_ensembles-2017-03-08_2017-03-14.csv', import.meta.url).pathname;
const PERIOD = { testFirstDay: '2017-03-08', testLastDay: '2017-03-14', recalibration: { everyDays: 3 }, window: { kind: 'expanding' } } as const;

let fx: FixtureContext;
let table: FeatureTable;
let featuresParquet: string;

test.before(async () => {
  fx = await openFixture();
  featuresParquet = `${fx.dir}/features.parquet`;
  await buildFeatures(fx.conn, { pricesParquet: [fx.pricesParquet], loadParquet: [fx.loadParquet], market: 'da', outPath: featuresParquet });
  table = await readFeatureTable(fx.conn, featuresParquet, 'da');
});
test.after(() => fx.cleanup());

test('recalibration blocks: calendar months, weeks, days', () => {
  assert.equal(testBlocks('2016-12-27', '2017-02-28', 'monthly').length, 3);
  assert.equal(testBlocks('2016-12-27', '2018-12-24', 'monthly').length, 24);
  assert.equal(testBlocks('2016-12-27', '2018-12-24', 'weekly').length, 104);
  assert.equal(testBlocks('2016-12-27', '2016-12-30', 'daily').length, 4);
  const [first] = testBlocks('2016-12-27', '2017-02-28', 'monthly');
  assert.equal(first, [dayNumberOf('2016-12-27'), dayNumberOf('2017-01-26')]);
});

test('a short walk-forward: every hour forecast once, each block trained only on earlier days, better than naive', async () => {
  const r = await walkForward(table, { ...PERIOD, settings: SMALL });
  assert.is(r.forecasts.length, 7 * 24);
  assert.is(r.blocks.length, 3);
  for (const b of r.blocks) assert.is(dayNumberOf(b.trainLastDay), dayNumberOf(b.testFirstDay) - 1, b.testFirstDay);
  assert.ok(Number.isFinite(r.metrics.overall.mae));
  assert.ok(r.metrics.overall.mae < r.metrics.overall.naiveMae, `MAE ${r.metrics.overall.mae} vs naive ${r.metrics.overall.naiveMae}`);
  assert.is(Object.keys(r.metrics.byHour).length, 24);
  assert.equal(Object.keys(r.metrics.byNode), [String(COMED)]);

  // Changing the prices of the last block's days changes none of its forecasts.
  const lastBlock = dayNumberOf('2017-03-14');
  const target = Float64Array.from(table.target, (v, i) => (table.dayNumber[i]! >= lastBlock ? v * 3 + 100 : v));
  const r2 = await walkForward({ ...table, target }, { ...PERIOD, settings: SMALL });
  const last = (x: typeof r) => x.forecasts.filter((f) => f.day === '2017-03-14').map((f) => f.forecast);
  assert.equal(last(r2), last(r));
});

test('ensemble members train one after the other on shared matrices: each equals the member trained alone; one failing member fails the training with its error', async () => {
  const window = { firstDay: dayNumberOf('2016-11-06'), lastDay: dayNumberOf('2017-03-07') };
  const { start, end } = { start: 0, end: table.rows };
  // The second member trains on matrices whose labels the first member's were: the same model as on fresh ones.
  const both = await trainModel(table, window, { ...SMALL, params: { ...SMALL.params, nthread: 1 } });
  const alone = await trainModel(table, window, { ...SMALL, variants: [SMALL.variants[1]!], params: { ...SMALL.params, nthread: 1 } });
  try {
    assert.equal(
      both.members.map((m) => m.variant.name),
      ['change_lag1', 'level'],
      'members keep their order',
    );
    const one = { ...both, members: [both.members[1]!] };
    assert.equal(Array.from(predictRows(one, table, start, end)), Array.from(predictRows(alone, table, start, end)));
  } finally {
    disposeModel(both);
    disposeModel(alone);
  }
  const broken: TrainSettings = { ...SMALL, variants: [SMALL.variants[0]!, { name: 'broken', target: 'level', params: { max_depth: -3 } }] };
  const failed = await trainModel(table, window, broken).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  assert.ok(failed, 'training with a broken member must fail');
  assert.match(failed!.message, /max_depth/);
});

test('an ensemble whose LEAR has no forecast (history shorter than its longest window) is XGBoost alone, and its name says so', async () => {
  const families = { families: 'ensemble', learWindows: [56, 365], learEveryDays: [7, 7] } as const;
  const out = await backtest(fx.conn, { featuresParquet, market: 'da', ...PERIOD, settings: SMALL, families });
  const alone = await backtest(fx.conn, { featuresParquet, market: 'da', ...PERIOD, settings: SMALL });
  assert.match(out.report.comparison[0]!.name, /^Ensemble XGBoost \+ LEAR \(.*; LEAR had no forecast, so XGBoost alone\)$/);
  assert.equal(
    out.result.forecasts.map((h) => h.forecast),
    alone.result.forecasts.map((h) => h.forecast),
  );
});

test('the comparison table scores the published ensembles on our hours', async () => {
  const out = await backtest(fx.conn, { featuresParquet, market: 'da', ...PERIOD, settings: SMALL, publishedForecastsCsv: PUBLISHED });
  const names = out.report.comparison.map((c) => c.name);
  assert.is(names.length, 4);
  assert.match(names[2]!, /LEAR Ensemble/);
  assert.match(names[3]!, /DNN Ensemble/);
  assert.match(out.table, /LEAR Ensemble \(published\)/);
  assert.is(out.report.hours, 168);
  const published = await scorePublishedForecasts(fx.conn, PUBLISHED, out.result.forecasts);
  // Same real prices in both files: the LEAR ensemble beats the naive forecast on these days.
  assert.ok(published[0]!.scores.mae > 0 && published[0]!.scores.rmae < 1);
  assert.is(formatComparisonTable(comparisonRows('x', out.result.metrics, published), 't').split('\n').length, 7);
  const outside = await scorePublishedForecasts(fx.conn, PUBLISHED, [{ nodeId: COMED, day: '2017-03-01', hour: 0, actual: 1, forecast: 1, naive: 1 }]).then(
    () => 'no error',
    (e: Error) => e.message,
  );
  assert.match(outside, /no row for 2017-03-01 00:00 EPT/);
});

test('the model is saved as XGBoost JSON with a sidecar and loads back to the same forecasts', async () => {
  const model = await trainModel(table, { firstDay: dayNumberOf('2016-11-05'), lastDay: dayNumberOf('2017-03-07') }, SMALL);
  try {
    const files = modelFiles(model, 'xgb_da_lmp', { note: 'test' });
    assert.equal(
      files.files.map((f) => f.name),
      ['xgb_da_lmp.json', 'xgb_da_lmp.level.json'],
    );
    const json = JSON.parse(Buffer.from(files.files[0]!.bytes).toString('utf8'));
    assert.ok(json.learner?.gradient_booster, 'an XGBoost JSON model');
    const sidecar = JSON.parse(JSON.stringify(files.sidecar));
    assert.equal(sidecar.featureNames, [...model.featureNames]);
    assert.not.ok(sidecar.featureNames.includes('target'));
    assert.is(sidecar.window.lastDay, '2017-03-07');
    assert.is(sidecar.members[0].learningCurve.valid.length, model.members[0]!.evalLog.length);
    assert.ok(sidecar.members[0].importance.length > 0);
    const loaded = loadModel(sidecar, new Map(files.files.map((f) => [f.name, f.bytes])));
    const first = dayNumberOf('2017-03-08');
    const start = table.dayNumber.indexOf(first);
    assert.equal([...predictRows(loaded, table, start, start + 48)], [...predictRows(model, table, start, start + 48)]);
    disposeModel(loaded);
  } finally {
    disposeModel(model);
  }
});

test('the forecast of a day is on its real UTC hours: 23 on spring-forward, 25 on fall-back; a day without inputs is a typed error', async () => {
  const model = await trainModel(table, { firstDay: dayNumberOf('2016-11-05'), lastDay: dayNumberOf('2017-03-07') }, SMALL);
  try {
    const inputs = { pricesParquet: [fx.pricesParquet], loadParquet: [fx.loadParquet], market: 'da' as const, model, tempDir: fx.dir };
    const spring = await forecastDay(fx.conn, { ...inputs, nodeId: COMED, day: '2017-03-12' });
    assert.ok(spring.ok);
    if (spring.ok) {
      assert.is(spring.forecast.rows.length, 23);
      assert.is(spring.forecast.rows[0]!.tsUtc, '2017-03-12T05:00:00Z');
      assert.is(spring.forecast.rows[2]!.tsEpt, '2017-03-12T03:00:00-04:00');
      assert.ok(spring.forecast.rows.every((r) => Number.isFinite(r.value) && r.value > 0));
    }
    const fall = await forecastDay(fx.conn, { ...inputs, nodeId: COMED, day: '2016-11-06' });
    assert.ok(fall.ok);
    if (fall.ok) {
      assert.is(fall.forecast.rows.length, 25);
      assert.is(fall.forecast.rows[1]!.value, fall.forecast.rows[2]!.value);
      assert.equal([fall.forecast.rows[1]!.tsEpt, fall.forecast.rows[2]!.tsEpt], ['2016-11-06T01:00:00-04:00', '2016-11-06T01:00:00-05:00']);
    }
    // The day after the last price, 2017-03-15, has no load forecast in the slice: by default
    // the forecast is of the last day whose inputs are all known, 2017-03-14, not a failure.
    const out = `${fx.dir}/forecast.parquet`;
    const latest = await latestForecast(fx.conn, { ...inputs, outPath: out });
    assert.equal(
      latest.failures.map((f) => f.message),
      [],
    );
    assert.equal(
      latest.forecasts.map((f) => [f.nodeId, f.day, f.rows.length]),
      [[COMED, '2017-03-14', 24]],
    );
    // Asked for 2017-03-15 explicitly: a typed error naming the missing input, day and hours, on one line.
    const explicit = await latestForecast(fx.conn, { ...inputs, day: '2017-03-15' });
    assert.is(explicit.forecasts.length, 0);
    assert.is(explicit.failures.length, 1);
    assert.match(explicit.failures[0]!.message, /node 33092371, market da, day 2017-03-15 .*load forecast of area RTO on 2017-03-15 hours all/);
    assert.not.match(explicit.failures[0]!.message, /\n/);
    const written = await fx.conn.runAndReadAll(`SELECT count(*), min(ts_utc)::VARCHAR, count(p05), count(p95) FROM read_parquet('${out}')`);
    assert.equal(written.getRows()[0], [24n, '2017-03-14 04:00:00+00', 0n, 0n], 'an uncalibrated model: the quantile columns are there, NULL');
  } finally {
    disposeModel(model);
  }
});

test('with the model calibration the forecast rows and their Parquet file carry p05..p95: forecast + the hour offset, monotone', async () => {
  const model = await trainModel(table, { firstDay: dayNumberOf('2016-11-05'), lastDay: dayNumberOf('2017-03-07') }, SMALL);
  try {
    // The calibration from the model's residuals on the six held-out days before the forecast day.
    const { start, end } = rowsBetween(table, dayNumberOf('2017-03-08'), dayNumberOf('2017-03-13'));
    const held = predictRows(model, table, start, end);
    const calibration = conformalCalibration(
      Array.from({ length: end - start }, (_, i) => ({
        day: dayOfNumber(table.dayNumber[start + i]!),
        hour: table.hour[start + i]!,
        actual: table.target[start + i]!,
        forecast: held[i]!,
      })),
      { days: 6, minPerHour: 6 },
    );
    const out = `${fx.dir}/forecast-q.parquet`;
    const inputs = { pricesParquet: [fx.pricesParquet], loadParquet: [fx.loadParquet], market: 'da' as const, model, tempDir: fx.dir };
    const latest = await latestForecast(fx.conn, { ...inputs, calibration, day: '2017-03-14', outPath: out });
    const rows = latest.forecasts[0]!.rows;
    assert.is(rows.length, 24);
    assert.equal(QUANTILE_COLUMNS, ['p05', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95']);
    const read = await fx.conn.runAndReadAll(`SELECT ts_utc::VARCHAR AS ts, value, ${QUANTILE_COLUMNS.join(', ')} FROM read_parquet('${out}') ORDER BY ts_utc`);
    const got = read.getRowObjectsJS() as Record<string, number | string>[];
    assert.is(got.length, 24);
    got.forEach((g, h) => {
      const q = QUANTILE_COLUMNS.map((c) => g[c] as number);
      assert.equal(q, [...rows[h]!.quantiles!], `hour ${h}: the file holds the rows' quantiles`);
      q.forEach((v, k) => {
        assert.ok(Math.abs(v - ((g.value as number) + calibration.offsets[h]![k]!)) < 1e-9, `hour ${h} ${QUANTILE_COLUMNS[k]}`);
      });
      for (let k = 1; k < q.length; k++) assert.ok(q[k]! >= q[k - 1]!, `hour ${h}: ${QUANTILE_COLUMNS[k]} below ${QUANTILE_COLUMNS[k - 1]}`);
      assert.ok(q[6]! > q[0]!, `hour ${h}: a 90 % interval of width 0`);
    });
    // A calibration without one of the levels is refused, naming it, rather than writing a wrong column.
    const partial = { ...calibration, levels: calibration.levels.slice(1), offsets: calibration.offsets.map((o) => o.slice(1)) };
    const refused = await latestForecast(fx.conn, { ...inputs, calibration: partial, day: '2017-03-14' }).then(
      () => null,
      (e: Error) => e.message,
    );
    assert.match(refused ?? 'not refused', /no quantile at level\(s\) 0.05 /);
  } finally {
    disposeModel(model);
  }
});

test.run();
