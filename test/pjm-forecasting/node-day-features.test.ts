// The feature partitions of the pipeline (`pjm/features[node|day]`, one node and target day
// each, `buildNodeDaysFeatures`) hold exactly the rows the whole-history computation
// (`buildFeatures` over every validated day) gives that node-day: same columns, types and
// values, the first week left out alike. And they have no look-ahead: perturbing every price
// from the target day on and every load after it changes no feature of any day up to it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { buildFeatures, buildNodeDaysFeatures, featureColumns } from '../../assets/pjm/features/index.ts';
import { addDays } from '../../lib/days.ts';
import { COMED, openFixture, readRows, type FixtureContext } from './helpers/fixture.ts';

let fx: FixtureContext;
let whole: Record<string, unknown>[];
const FIRST = '2016-10-29';

test.before(async () => {
  fx = await openFixture();
  await buildFeatures(fx.conn, { pricesParquet: [fx.pricesParquet], loadParquet: [fx.loadParquet], market: 'da', outPath: `${fx.dir}/whole.parquet` });
  whole = await readRows(fx.conn, `${fx.dir}/whole.parquet`);
});
test.after(() => fx.cleanup());

async function nodeDay(day: string, prices = fx.pricesParquet, load = fx.loadParquet, tag = 'p'): Promise<{ rows: Record<string, unknown>[]; types: string }> {
  const out = await oneDay(day, prices, load, tag);
  const types = (
    await fx.conn.runAndReadAll(`SELECT string_agg(column_name || ':' || column_type, ',') FROM (DESCRIBE SELECT * FROM read_parquet('${out}'))`)
  ).getRows()[0]![0];
  return { rows: await readRows(fx.conn, out), types: String(types) };
}

async function oneDay(day: string, prices = fx.pricesParquet, load = fx.loadParquet, tag = 'p'): Promise<string> {
  const outDir = `${fx.dir}/nd-${tag}-${day}`;
  await mkdir(outDir, { recursive: true });
  const r = (
    await buildNodeDaysFeatures(fx.conn, { pricesParquet: [prices], loadParquet: [load], market: 'da', nodeId: COMED, days: [day], spanStart: FIRST, outDir })
  ).get(day);
  if (!r?.ok) throw new Error(`${day}: ${r ? r.error.message : 'no result'}`);
  return r.path;
}

const sha = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

test('a batch of days writes each day exactly as that day alone: same bytes, whatever else is in the batch', async () => {
  const days = [...Array.from({ length: 12 }, (_, i) => addDays(FIRST, i)), ...Array.from({ length: 8 }, (_, i) => addDays('2017-03-06', i))];
  const outDir = `${fx.dir}/batch`;
  await mkdir(outDir, { recursive: true });
  const batch = await buildNodeDaysFeatures(fx.conn, {
    pricesParquet: [fx.pricesParquet],
    loadParquet: [fx.loadParquet],
    market: 'da',
    nodeId: COMED,
    days,
    spanStart: FIRST,
    outDir,
  });
  assert.equal([...batch.keys()].sort(), [...days].sort());
  for (const day of days) {
    const r = batch.get(day)!;
    assert.ok(r.ok, day);
    if (!r.ok) continue;
    assert.is(r.rows, whole.filter((w) => w['day'] === day).length, `${day}: rows, as the whole-history run`);
    if (day < addDays(FIRST, 7)) assert.is(r.leftOut, 'lags_before_span', `${day}: left out`);
    assert.is(await sha(r.path), await sha(await oneDay(day, fx.pricesParquet, fx.loadParquet, 'alone')), `${day}: the batch's file is the single day's file`);
  }
});

test('every node-day partition equals the whole-history rows of that node-day (DST days and the first week included)', async () => {
  const wholeTypes = String(
    (
      await fx.conn.runAndReadAll(
        `SELECT string_agg(column_name || ':' || column_type, ',') FROM (DESCRIBE SELECT * FROM read_parquet('${fx.dir}/whole.parquet'))`,
      )
    ).getRows()[0]![0],
  );
  // The first 9 days (the first week has no lags), a stretch of winter, and the spring-forward week.
  const days = [
    ...Array.from({ length: 9 }, (_, i) => addDays(FIRST, i)),
    '2016-12-24',
    '2016-12-25',
    '2017-01-02',
    ...Array.from({ length: 8 }, (_, i) => addDays('2017-03-08', i)),
  ];
  let compared = 0;
  for (const day of days) {
    const { rows, types } = await nodeDay(day);
    const expected = whole.filter((r) => r['day'] === day);
    assert.is(rows.length, expected.length, `${day}: rows`);
    if (rows.length > 0) assert.is(types, wholeTypes, `${day}: columns and types`);
    for (const [i, r] of rows.entries()) assert.equal(r, expected[i], `${day} hour ${i}`);
    compared += rows.length;
  }
  assert.is(whole.filter((r) => String(r['day']) < addDays(FIRST, 7)).length, 0, 'the whole-history run leaves the first week out too');
  assert.ok(compared >= 24 * 12, `${compared} rows compared`);
});

test('no look-ahead in the node-day partitions: a perturbation from the target day on changes no feature up to it', async () => {
  const FEATURES = featureColumns('da');
  for (const cutoff of ['2016-11-14', '2017-03-12']) {
    const prices = `${fx.dir}/prices-${cutoff}.parquet`;
    const load = `${fx.dir}/load-${cutoff}.parquet`;
    const from = `CAST(TIMESTAMP '${cutoff} 00:00:00' AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;
    const loadFrom = `CAST((TIMESTAMP '${cutoff} 00:00:00' + INTERVAL 1 DAY) AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;
    const bump = (c: string) => `CASE WHEN ts_utc >= ${from} THEN coalesce(${c}, 1) * 1.7 + 13 ELSE ${c} END`;
    await fx.conn.run(`COPY (SELECT * REPLACE (${bump('lmp')} AS lmp, ${bump('energy')} AS energy, ${bump('congestion')} AS congestion, ${bump('loss')} AS loss)
      FROM read_parquet('${fx.pricesParquet}')) TO '${prices}' (FORMAT parquet)`);
    await fx.conn.run(
      `COPY (SELECT * REPLACE (CASE WHEN ts_utc >= ${loadFrom} THEN mw * 0.5 + 999 ELSE mw END AS mw) FROM read_parquet('${fx.loadParquet}')) TO '${load}' (FORMAT parquet)`,
    );
    for (const day of [addDays(cutoff, -7), addDays(cutoff, -1), cutoff]) {
      const base = (await nodeDay(day)).rows;
      const perturbed = (await nodeDay(day, prices, load, cutoff)).rows;
      assert.is(perturbed.length, base.length);
      assert.ok(base.length === 24, `${day} has rows`);
      base.forEach((r, i) => {
        for (const name of FEATURES) assert.is(perturbed[i]![name], r[name], `${cutoff}: ${day} h${r['hour']} ${name}`);
      });
      if (day === cutoff) assert.is.not(perturbed[12]!['target'], base[12]!['target'], 'the perturbation reached the target');
    }
    const next = (await nodeDay(addDays(cutoff, 1), prices, load, cutoff)).rows;
    const nextBase = (await nodeDay(addDays(cutoff, 1))).rows;
    assert.is.not(next[0]!['price_lag1_h'], nextBase[0]!['price_lag1_h'], 'the next day sees the perturbed prices');
  }
});

test.run();
