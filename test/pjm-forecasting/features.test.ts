// Features: computed per node, with no look-ahead, never containing the target or its
// components, on the 24-hour EPT grid across DST days; the /predict path gives the same rows
// as the features asset, or a typed error naming exactly what is missing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildFeatures, featureColumns, featuresForDay, MissingFeatureInputsError, nercHolidays, TARGET_COLUMN } from '../../assets/pjm/features/index.ts';
import { COMED, openFixture, readRows, type FixtureContext } from './helpers/fixture.ts';

let fx: FixtureContext;
let base: Record<string, unknown>[];
const FEATURES = featureColumns('da');

test.before(async () => {
  fx = await openFixture();
  await buildFeatures(fx.conn, { pricesParquet: [fx.pricesParquet], loadParquet: [fx.loadParquet], market: 'da', outPath: `${fx.dir}/features.parquet` });
  base = await readRows(fx.conn, `${fx.dir}/features.parquet`);
});
test.after(() => fx.cleanup());

const rowOf = (rows: Record<string, unknown>[], day: string, hour: number, node = COMED) =>
  rows.find((r) => r['day'] === day && r['hour'] === hour && Number(r['node_id']) === node);

test('every complete day of the slice has 24 rows, the first 7 days have no history and are left out', () => {
  assert.is(base.length, (137 - 7) * 24);
  assert.is(base[0]!['day'], '2016-11-05');
  assert.is(base.at(-1)!['day'], '2017-03-14');
});

test('the target and its components are never features', () => {
  for (const banned of [TARGET_COLUMN, 'lmp', 'energy', 'congestion', 'loss', 'price_lag0_h']) assert.not.ok(FEATURES.includes(banned), banned);
  // No feature column reproduces the target on every row (a renamed leak would).
  for (const name of FEATURES) {
    const same = base.every((r) => r[name] === r[TARGET_COLUMN]);
    assert.not.ok(same, `${name} equals the target on every row`);
  }
});

test('DST days sit on the 24-hour grid: spring-forward 02:00 interpolated, fall-back 01:00 averaged', () => {
  // 2017-03-12 has no 02:00 EPT; the grid value is the mean of 01:00 and 03:00 (the epftoolbox file's own value).
  const after = rowOf(base, '2017-03-13', 0)!;
  const h1 = after['price_lag1_h01'] as number;
  const h3 = after['price_lag1_h03'] as number;
  assert.ok(Math.abs((after['price_lag1_h02'] as number) - (h1 + h3) / 2) < 1e-9);
  assert.ok(Math.abs((after['price_lag1_h02'] as number) - 27.569412) < 1e-9, String(after['price_lag1_h02']));
  assert.ok(Math.abs((rowOf(base, '2017-03-12', 2)!['target'] as number) - (h1 + h3) / 2) < 1e-9);
  // 2016-11-06 01:00 EPT occurs twice; its grid value is the file's (averaged) 01:00 price.
  assert.ok(Math.abs((rowOf(base, '2016-11-07', 0)!['price_lag1_h01'] as number) - 18.9036835) < 1e-9);
  for (const day of ['2016-11-06', '2017-03-12']) assert.is(base.filter((r) => r['day'] === day).length, 24, day);
});

test('calendar features: ISO day of week and observed NERC holidays', () => {
  assert.equal(nercHolidays(2016), ['2016-01-01', '2016-05-30', '2016-07-04', '2016-09-05', '2016-11-24', '2016-12-26']);
  assert.equal(nercHolidays(2017), ['2017-01-02', '2017-05-29', '2017-07-04', '2017-09-04', '2017-11-23', '2017-12-25']);
  // A Saturday holiday is not moved (NERC): 2022-01-01 and 2022-06-04 … 2021-07-04 is a Sunday, observed on the 5th.
  assert.is(nercHolidays(2022)[0], '2022-01-01');
  assert.is(nercHolidays(2021)[2], '2021-07-05');
  assert.is(rowOf(base, '2016-12-26', 5)!['is_holiday'], 1);
  assert.is(rowOf(base, '2016-12-25', 5)!['is_holiday'], 0);
  assert.is(rowOf(base, '2016-12-27', 5)!['is_holiday_lag1'], 1);
  assert.is(rowOf(base, '2016-12-26', 5)!['day_of_week'], 1);
  assert.is(rowOf(base, '2016-12-25', 5)!['day_of_week'], 7);
});

test('price and load features hold the hand-checked values of the source file', () => {
  const r = rowOf(base, '2016-12-27', 18)!;
  // PJM.csv: 2016-12-26 18:00 price 27.093…, 2016-12-20 18:00, load forecasts of 2016-12-27 18:00.
  assert.is(r['price_lag1_h'], r['price_lag1_h18']);
  assert.is(r['price_lag7_h'], r['price_lag7_h18']);
  const lag1 = base.filter((x) => x['day'] === '2016-12-26').map((x) => x['target'] as number);
  assert.ok(Math.abs((r['price_lag1_mean'] as number) - lag1.reduce((a, b) => a + b, 0) / 24) < 1e-9);
  assert.is(r['price_lag1_max'], Math.max(...lag1));
  assert.is(r['price_lag1_h'], lag1[18]);
  const prev = rowOf(base, '2016-12-26', 18)!;
  assert.ok(Math.abs((r['load_sys_chg_lag1'] as number) - ((r['load_sys_h'] as number) - (prev['load_sys_h'] as number))) < 1e-9);
});

/** Writes a copy of the canonical tables with every price from `cutoffDay` 00:00 EPT on, and every load from the day after, changed. */
async function perturbAfter(cutoffDay: string, tag: string): Promise<{ prices: string; load: string }> {
  const prices = `${fx.dir}/prices-${tag}.parquet`;
  const load = `${fx.dir}/load-${tag}.parquet`;
  const from = `CAST(TIMESTAMP '${cutoffDay} 00:00:00' AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;
  const loadFrom = `CAST((TIMESTAMP '${cutoffDay} 00:00:00' + INTERVAL 1 DAY) AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;
  const bump = (c: string) => `CASE WHEN ts_utc >= ${from} THEN coalesce(${c}, 1) * 1.7 + 13 ELSE ${c} END`;
  await fx.conn.run(`COPY (SELECT * REPLACE (${bump('lmp')} AS lmp, ${bump('energy')} AS energy, ${bump('congestion')} AS congestion, ${bump('loss')} AS loss)
    FROM read_parquet('${fx.pricesParquet}')) TO '${prices}' (FORMAT parquet)`);
  await fx.conn.run(`COPY (SELECT * REPLACE (CASE WHEN ts_utc >= ${loadFrom} THEN mw * 0.5 + 999 ELSE mw END AS mw)
    FROM read_parquet('${fx.loadParquet}')) TO '${load}' (FORMAT parquet)`);
  return { prices, load };
}

test('no look-ahead: perturbing every price (and component) from the target day on and every load after it leaves every feature row up to that day unchanged', async () => {
  for (const cutoff of ['2016-11-07', '2017-01-02', '2017-03-12', '2017-03-13']) {
    const p = await perturbAfter(cutoff, cutoff);
    const out = `${fx.dir}/features-${cutoff}.parquet`;
    await buildFeatures(fx.conn, { pricesParquet: [p.prices], loadParquet: [p.load], market: 'da', outPath: out });
    const perturbed = await readRows(fx.conn, out);
    const before = base.filter((r) => (r['day'] as string) <= cutoff);
    const after = perturbed.filter((r) => (r['day'] as string) <= cutoff);
    assert.is(after.length, before.length, `rows up to ${cutoff}`);
    assert.ok(before.length > 0);
    before.forEach((r, i) => {
      for (const name of FEATURES) assert.is(after[i]![name], r[name], `${cutoff} ${r['day']} h${r['hour']} ${name}`);
    });
    // The perturbation did happen: the target of the cutoff day and the next day's features changed.
    assert.is.not(rowOf(perturbed, cutoff, 12)!['target'], rowOf(base, cutoff, 12)!['target']);
    const next = perturbed.find((r) => (r['day'] as string) > cutoff);
    const nextBase = base.find((r) => r['day'] === next?.['day'] && r['hour'] === next?.['hour']);
    assert.is.not(next?.['price_lag1_h'], nextBase?.['price_lag1_h']);
  }
});

test('features are computed per node: a second node with other prices never mixes into the first', async () => {
  const two = `${fx.dir}/prices-two-nodes.parquet`;
  await fx.conn.run(`COPY (SELECT * FROM read_parquet('${fx.pricesParquet}')
    UNION ALL SELECT * REPLACE (CAST(77 AS BIGINT) AS node_id, 'OTHER' AS node_name, 'OTHER' AS zone, lmp * 2 + 50 AS lmp)
    FROM read_parquet('${fx.pricesParquet}')) TO '${two}' (FORMAT parquet)`);
  const out = `${fx.dir}/features-two.parquet`;
  const result = await buildFeatures(fx.conn, { pricesParquet: [two], loadParquet: [fx.loadParquet], market: 'da', outPath: out });
  assert.is(result.nodes, 2);
  const rows = await readRows(fx.conn, out);
  const comed = rows.filter((r) => Number(r['node_id']) === COMED);
  const other = rows.filter((r) => Number(r['node_id']) === 77);
  assert.is(comed.length, base.length);
  assert.is(other.length, base.length);
  comed.forEach((r, i) => {
    for (const name of FEATURES) assert.is(r[name], base[i]![name], name);
  });
  other.forEach((r, i) => {
    const b = base[i]!;
    for (const name of ['price_lag1_h', 'price_lag7_h', 'price_lag3_h05', 'price_lag1_mean', 'price_lag1_max']) {
      assert.ok(Math.abs((r[name] as number) - ((b[name] as number) * 2 + 50)) < 1e-9, name);
    }
    assert.is(r['load_sys_h'], b['load_sys_h']);
    // Node 77's zone has no load forecast: its zonal load features are empty, not COMED's.
    assert.is(r['load_zone_h'], null);
  });
});

test('the /predict path builds the same row as the features asset, from the same code', async () => {
  for (const day of ['2016-11-07', '2017-03-12', '2017-03-14']) {
    const r = await featuresForDay(fx.conn, {
      pricesParquet: [fx.pricesParquet],
      loadParquet: [fx.loadParquet],
      market: 'da',
      nodeId: COMED,
      day,
      tempDir: fx.dir,
    });
    assert.ok(r.ok, day);
    if (!r.ok) continue;
    assert.is(r.rows.length, 24);
    for (const row of r.rows) {
      const b = rowOf(base, day, row.hour)!;
      assert.is(row.target, b['target']);
      for (const name of FEATURES) assert.is(row.features[name], b[name], `${day} ${row.hour} ${name}`);
    }
  }
});

test('/predict names exactly the missing inputs instead of falling back to older data', async () => {
  const holes = `${fx.dir}/prices-holes.parquet`;
  // Drop 2017-03-08 05:00-07:00 EPT (10:00-12:00 UTC) and all of 2017-03-14.
  await fx.conn.run(`COPY (SELECT * FROM read_parquet('${fx.pricesParquet}')
    WHERE NOT (ts_utc >= TIMESTAMPTZ '2017-03-08 10:00:00+00' AND ts_utc < TIMESTAMPTZ '2017-03-08 13:00:00+00')
      AND NOT (ts_utc >= TIMESTAMPTZ '2017-03-14 04:00:00+00')) TO '${holes}' (FORMAT parquet)`);
  const r = await featuresForDay(fx.conn, {
    pricesParquet: [holes],
    loadParquet: [fx.loadParquet],
    market: 'da',
    nodeId: COMED,
    day: '2017-03-15',
    tempDir: fx.dir,
  });
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.instance(r.error, MissingFeatureInputsError);
  assert.equal(
    r.error.missing.map((m) => [m.input, m.day, m.area ?? m.market, m.hours.length === 24 ? 'all' : m.hours.join(',')]),
    [
      ['price', '2017-03-14', 'da', 'all'],
      ['price', '2017-03-08', 'da', '5,6,7'],
      ['load_forecast', '2017-03-15', 'RTO', 'all'],
      ['load_forecast', '2017-03-15', 'COMED', 'all'],
    ],
  );
  assert.match(r.error.message, /2017-03-08 hours 5,6,7/);
});

test("real-time targets: the same node's day-ahead price of the target hour is a feature, nothing later is", async () => {
  // An RT series for COMED made from its DA prices (the slice has no RT market): rt = 1.1 × da + 2.
  const both = `${fx.dir}/prices-rt.parquet`;
  await fx.conn.run(`COPY (SELECT * FROM read_parquet('${fx.pricesParquet}')
    UNION ALL SELECT * REPLACE ('rt' AS market, lmp * 1.1 + 2 AS lmp) FROM read_parquet('${fx.pricesParquet}')) TO '${both}' (FORMAT parquet)`);
  const out = `${fx.dir}/features-rt.parquet`;
  await buildFeatures(fx.conn, { pricesParquet: [both], loadParquet: [fx.loadParquet], market: 'rt', outPath: out });
  const rt = await readRows(fx.conn, out);
  assert.ok(featureColumns('rt').includes('da_price_h'));
  assert.is(rt.length, base.length);
  rt.forEach((r, i) => {
    const da = base[i]!;
    assert.is(r['da_price_h'], da['target'], `${r['day']} ${r['hour']}`);
    assert.ok(Math.abs((r['target'] as number) - ((da['target'] as number) * 1.1 + 2)) < 1e-9);
    assert.ok(Math.abs((r['price_lag1_h'] as number) - ((da['price_lag1_h'] as number) * 1.1 + 2)) < 1e-9);
  });
  // Perturb RT from 2017-02-01 on and DA from 2017-02-02 on: rows up to 2017-02-01 are unchanged.
  const cut = `CAST(TIMESTAMP '2017-02-01 00:00:00' AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;
  const perturbed = `${fx.dir}/prices-rt-perturbed.parquet`;
  await fx.conn.run(`COPY (SELECT * REPLACE (CASE WHEN (market = 'rt' AND ts_utc >= ${cut}) OR (market = 'da' AND ts_utc >= ${cut} + INTERVAL 1 DAY)
      THEN lmp * 3 - 7 ELSE lmp END AS lmp) FROM read_parquet('${both}')) TO '${perturbed}' (FORMAT parquet)`);
  const out2 = `${fx.dir}/features-rt-perturbed.parquet`;
  await buildFeatures(fx.conn, { pricesParquet: [perturbed], loadParquet: [fx.loadParquet], market: 'rt', outPath: out2 });
  const after = (await readRows(fx.conn, out2)).filter((r) => (r['day'] as string) <= '2017-02-01');
  const before = rt.filter((r) => (r['day'] as string) <= '2017-02-01');
  assert.is(after.length, before.length);
  before.forEach((r, i) => {
    for (const name of featureColumns('rt')) assert.is(after[i]![name], r[name], `${r['day']} ${r['hour']} ${name}`);
  });
});

test.run();
