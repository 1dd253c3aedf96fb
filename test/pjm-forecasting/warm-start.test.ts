// Daily recalibration by warm starts (assets/pjm/backtest/warm-start.ts) on the committed
// epftoolbox slice: each block's first day is the model trained from scratch, every later day
// the day before's model updated; no day's forecast depends on its own or later prices; runs
// repeat exactly; and the daily updates forecast about as well as training from scratch daily.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFeatures } from '../../assets/pjm/features/index.ts';
import { walkForward, type WalkForwardOptions, type WalkForwardResult } from '../../assets/pjm/backtest/index.ts';
import { dayNumberOf } from '../../lib/days.ts';
import { readFeatureTable, type FeatureTable } from '../../assets/pjm/model/dataset.ts';
import { openFixture, SMALL, type FixtureContext } from './helpers/fixture.ts';

const PERIOD = { testFirstDay: '2017-03-01', testLastDay: '2017-03-14', window: { kind: 'expanding' }, settings: SMALL } as const;
const WARM: WalkForwardOptions = {
  ...PERIOD,
  recalibration: 'daily',
  warmStart: { anchor: { everyDays: 7 }, update: { kind: 'continue', rounds: 5 } },
};

let fx: FixtureContext;
let table: FeatureTable;

test.before(async () => {
  fx = await openFixture();
  const featuresParquet = `${fx.dir}/features.parquet`;
  await buildFeatures(fx.conn, { pricesParquet: [fx.pricesParquet], loadParquet: [fx.loadParquet], market: 'da', outPath: featuresParquet });
  table = await readFeatureTable(fx.conn, featuresParquet, 'da');
});
test.after(() => fx.cleanup());

const byDay = (r: WalkForwardResult, day: string) => r.forecasts.filter((f) => f.day === day).map((f) => f.forecast);

test('a block starts with the model trained from scratch and updates it daily: its first day is the plain block, its other days differ', async () => {
  const warm = await walkForward(table, WARM);
  const plain = await walkForward(table, { ...PERIOD, recalibration: { everyDays: 7 } });
  assert.is(warm.forecasts.length, 14 * 24);
  assert.is(warm.blocks.length, 2);
  for (const b of warm.blocks) {
    assert.is(dayNumberOf(b.trainLastDay), dayNumberOf(b.testFirstDay) - 1);
    assert.is(dayNumberOf(b.updatedThroughDay!), dayNumberOf(b.testLastDay) - 1, 'the last day is forecast by the model updated through the day before');
    assert.ok(b.updateSeconds! > 0);
  }
  // Six daily updates of 5 rounds each on top of the anchor's rounds.
  assert.equal(
    warm.blocks[0]!.rounds.map((r, k) => r - plain.blocks[0]!.rounds[k]!),
    [30, 30],
  );
  for (const day of ['2017-03-01', '2017-03-08']) assert.equal(byDay(warm, day), byDay(plain, day), day);
  for (const day of ['2017-03-02', '2017-03-14']) assert.not.equal(byDay(warm, day), byDay(plain, day), day);
});

test('no forecast reads its own day or a later one: changing the prices from a day on changes no forecast before it', async () => {
  const base = await walkForward(table, WARM);
  const from = dayNumberOf('2017-03-11');
  const target = Float64Array.from(table.target, (v, i) => (table.dayNumber[i]! >= from ? v * 3 + 100 : v));
  const changed = await walkForward({ ...table, target }, WARM);
  for (const day of ['2017-03-08', '2017-03-09', '2017-03-10', '2017-03-11']) assert.equal(byDay(changed, day), byDay(base, day), day);
  assert.not.equal(byDay(changed, '2017-03-12'), byDay(base, '2017-03-12'), 'the day after learns the changed day');
});

test('a warm run repeats exactly, whether its blocks train one at a time or two at once', async () => {
  const a = await walkForward(table, { ...WARM, parallelBlocks: 2 });
  const b = await walkForward(table, { ...WARM, parallelBlocks: 1 });
  assert.equal(
    a.forecasts.map((f) => f.forecast),
    b.forecasts.map((f) => f.forecast),
  );
});

test('daily updates forecast about as well as training from scratch every day (MAE within 15 %), and refreshing leaves works too', async () => {
  const scratch = await walkForward(table, { ...PERIOD, recalibration: 'daily' });
  const warm = await walkForward(table, WARM);
  const refresh = await walkForward(table, { ...WARM, warmStart: { anchor: { everyDays: 7 }, update: { kind: 'refresh' } } });
  const s = scratch.metrics.overall.mae;
  for (const [name, r] of [
    ['continue', warm],
    ['refresh', refresh],
  ] as const) {
    const m = r.metrics.overall.mae;
    assert.ok(Math.abs(m - s) / s < 0.15, `${name}: MAE ${m.toFixed(3)} against ${s.toFixed(3)} from scratch daily`);
  }
  assert.equal(
    refresh.blocks[0]!.rounds,
    warm.blocks[0]!.rounds.map((r) => r - 30),
    'refreshing keeps the anchor’s trees',
  );
  assert.not.equal(byDay(refresh, '2017-03-02'), byDay(await walkForward(table, { ...PERIOD, recalibration: { everyDays: 7 } }), '2017-03-02'));
});

test('a warm start needs daily recalibration and a whole number of rounds', async () => {
  const weekly = await walkForward(table, { ...WARM, recalibration: 'weekly' }).then(
    () => 'no error',
    (e: Error) => e.message,
  );
  assert.match(weekly, /give recalibration 'daily'/);
  const zero = await walkForward(table, { ...WARM, warmStart: { anchor: 'monthly', update: { kind: 'continue', rounds: 0 } } }).then(
    () => 'no error',
    (e: Error) => e.message,
  );
  assert.match(zero, /whole number of rounds >= 1/);
});

test.run();
