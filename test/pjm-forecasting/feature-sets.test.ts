// Feature sets from the inputs that exist, on real Data Miner excerpts (ALDENE, 2025-11-01..10:
// RT, DA and AECO metered load) and the epftoolbox slice (DA with load forecasts): each export
// mix gives its own set, a missing required input is an error naming input, node, day and
// hours, no set reads anything after the forecast time, and a model records its set so the
// one-day (/predict) path builds exactly its rows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  buildFeatures,
  detectFeatureSet,
  describeFeatureSet,
  featureColumns,
  featuresForDay,
  FeatureInputsMissingError,
  type FeatureSet,
  type Market,
} from '../../assets/pjm/features/index.ts';
import { registerDataMinerLmpCsv, registerDataMinerLoadMeteredCsv } from '../../assets/pjm/sources/dataminer-csv.ts';
import { writeCanonicalLoad, writeCanonicalPrices } from '../../assets/pjm/processed/index.ts';
import { lastKnownDays, forecastDay } from '../../assets/pjm/forecast/forecast.ts';
import { dayNumberOf } from '../../lib/days.ts';
import { readFeatureTable } from '../../assets/pjm/model/dataset.ts';
import { trainModel, disposeModel } from '../../assets/pjm/model/train.ts';
import { loadModel, modelFiles } from '../../assets/pjm/model/persist.ts';
import { walkForward } from '../../assets/pjm/backtest/walk-forward.ts';
import { DEFAULT_PARAMS, DEFAULT_SETTINGS, defaultSettingsFor, RT_WITH_DA_SETTINGS, type TrainSettings } from '../../assets/pjm/model/settings.ts';
import { COMED, openFixture, readRows, type FixtureContext } from './helpers/fixture.ts';

const ALDENE = 48592;
const csv = (name: string): string => fileURLToPath(new URL(`../fixtures/pjm/aldene-2025-11/${name}`, import.meta.url));

let dir: string;
let conn: DuckDBConnection;
/** Canonical Parquet of each feed alone. */
const files = { rt: '', da: '', both: '', metered: '', empty: [] as string[] };
let epf: FixtureContext;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pjm-feature-sets-'));
  conn = await (await DuckDBInstance.create(':memory:')).connect();
  await conn.run(`SET TimeZone='UTC'`);
  await registerDataMinerLmpCsv(conn, [csv('aldene_rt_hrl_lmps.csv')], 'rt', 'raw_rt');
  await registerDataMinerLmpCsv(conn, [csv('aldene_da_hrl_lmps.csv')], 'da', 'raw_da');
  await registerDataMinerLoadMeteredCsv(conn, [csv('aldene_hrl_load_metered.csv')], 'raw_metered');
  files.rt = (await writeCanonicalPrices(conn, ['raw_rt'], join(dir, 'rt.parquet'))).path;
  files.da = (await writeCanonicalPrices(conn, ['raw_da'], join(dir, 'da.parquet'))).path;
  files.both = (await writeCanonicalPrices(conn, ['raw_rt', 'raw_da'], join(dir, 'both.parquet'))).path;
  files.metered = (await writeCanonicalLoad(conn, ['raw_metered'], join(dir, 'metered.parquet'))).path;
  epf = await openFixture();
});
test.after(() => {
  conn.closeSync();
  rmSync(dir, { recursive: true, force: true });
  epf.cleanup();
});

async function detect(prices: string, load: readonly string[], market: Market, c = conn) {
  return detectFeatureSet(c, { pricesParquet: [prices], loadParquet: load, market });
}

async function build(prices: string, load: readonly string[], set: FeatureSet, tag: string, c = conn) {
  const out = join(dir, `features-${tag}.parquet`);
  const result = await buildFeatures(c, { pricesParquet: [prices], loadParquet: load, market: set.market, featureSet: set, outPath: out });
  return { result, rows: await readRows(c, out) };
}

/** Rows of a canonical file, or of the same file with `where` rows removed, as a new file. */
async function without(path: string, where: string, tag: string): Promise<string> {
  const out = join(dir, `${tag}.parquet`);
  await conn.run(`COPY (SELECT * FROM read_parquet('${path}') WHERE NOT (${where})) TO '${out}' (FORMAT parquet)`);
  return out;
}

const eptHours = (day: string, from: number, to: number): string =>
  `ts_utc >= CAST(TIMESTAMP '${day} ${String(from).padStart(2, '0')}:00:00' AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)
   AND ts_utc < CAST(TIMESTAMP '${day} ${String(to).padStart(2, '0')}:00:00' AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;

test('RT prices only (the most common export): a set of RT price lags alone, saying what it did without', async () => {
  const choice = await detect(files.rt, [], 'rt');
  assert.is(describeFeatureSet(choice.set), 'rt[price_lags]');
  assert.equal(
    choice.without.map((w) => w.input),
    ['da_price', 'load_forecast', 'load_metered'],
  );
  assert.match(choice.without[0]!.reason, /no DA prices/);
  const { result, rows } = await build(files.rt, [], choice.set, 'rt');
  // 10 days of data, the first 7 without a full week of lags: 3 days × 24 hours.
  assert.is(result.rows, 72);
  assert.is(rows[0]!['day'], '2025-11-08');
  const names = featureColumns(choice.set);
  assert.not.ok(names.includes('da_price_h'));
  assert.not.ok(names.some((n) => n.startsWith('load_') || n.startsWith('mload_')));
  assert.equal(Object.keys(rows[0]!).filter((k) => names.includes(k)).length, names.length);
});

test('DA prices only: DA price lags; a DA model never reads RT or the DA price of D (its target)', async () => {
  const choice = await detect(files.da, [], 'da');
  assert.is(describeFeatureSet(choice.set), 'da[price_lags]');
  assert.equal(
    choice.without.map((w) => w.input),
    ['load_forecast', 'load_metered'],
  );
  const both = await detect(files.both, [], 'da');
  assert.is(describeFeatureSet(both.set), 'da[price_lags]', 'RT prices in the data are not a DA input');
  const { rows } = await build(files.both, [], both.set, 'da');
  assert.is(rows.length, 72);
  // Lags are the DA market's own: D-1 at hour h is the DA target of D-1.
  const r = rows.find((x) => x['day'] === '2025-11-09' && x['hour'] === 17)!;
  const prev = rows.find((x) => x['day'] === '2025-11-08' && x['hour'] === 17)!;
  assert.is(r['price_lag1_h'], prev['target']);
});

test('RT + DA: the DA price of the same hour of D is an input of the RT model', async () => {
  const choice = await detect(files.both, [], 'rt');
  assert.is(describeFeatureSet(choice.set), 'rt[price_lags, da_price]');
  const { rows } = await build(files.both, [], choice.set, 'rt-da');
  const da = (await build(files.da, [], (await detect(files.da, [], 'da')).set, 'da-only')).rows;
  assert.is(rows.length, 72);
  for (const [i, r] of rows.entries()) assert.is(r['da_price_h'], da[i]!['target'], `${r['day']} ${r['hour']}`);
});

test('with metered load: metered load of D-1 (AECO, the only metered area) joins the RT set, with and without DA', async () => {
  const rtOnly = await detect(files.rt, [files.metered], 'rt');
  assert.is(describeFeatureSet(rtOnly.set), 'rt[price_lags, load_metered(AECO)]');
  const richest = await detect(files.both, [files.metered], 'rt');
  assert.is(describeFeatureSet(richest.set), 'rt[price_lags, da_price, load_metered(AECO)]');
  assert.equal(
    richest.without.map((w) => w.input),
    ['load_forecast'],
  );
  const { rows } = await build(files.both, [files.metered], richest.set, 'rt-da-metered');
  assert.is(rows.length, 72);
  // 2025-11-09 hour 18 reads AECO's metered load of 2025-11-08 18:00 EPT (the fixture's row: 953.000 MW).
  const r = rows.find((x) => x['day'] === '2025-11-09' && x['hour'] === 18)!;
  assert.is(r['mload_lag1_h'], 953);
  assert.ok(Number(r['mload_lag1_max']) >= Number(r['mload_lag1_mean']));
  // Left out by request, the same data gives the smaller set.
  const noLoad = await detectFeatureSet(conn, { pricesParquet: [files.both], loadParquet: [files.metered], market: 'rt', exclude: ['load_metered'] });
  assert.is(describeFeatureSet(noLoad.set), 'rt[price_lags, da_price]');
  assert.match(noLoad.without.find((w) => w.input === 'load_metered')!.reason, /left out by request/);
});

test('with load forecasts (epftoolbox: DA and the RTO and COMED forecasts): the DA set with load_forecast(RTO)', async () => {
  const choice = await detect(epf.pricesParquet, [epf.loadParquet], 'da', epf.conn);
  assert.is(describeFeatureSet(choice.set), 'da[price_lags, load_forecast(RTO)]');
  assert.equal(featureColumns(choice.set), featureColumns('da'), 'the same columns as the set every model used before');
  const noLoad = await detect(epf.pricesParquet, [], 'da', epf.conn);
  assert.is(describeFeatureSet(noLoad.set), 'da[price_lags]');
});

/** Every way a required input can be missing inside the span, each named with node, day and hours. */
test('a required input missing inside the span is an error naming the input, node, day and hours', async () => {
  const rtda = (await detect(files.both, [files.metered], 'rt')).set;
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    [
      'DA price of D',
      async () => build(await without(files.both, `market = 'da' AND ${eptHours('2025-11-09', 5, 8)}`, 'no-da'), [files.metered], rtda, 'e1'),
      /node 48592 2025-11-09: da price of node 48592 on 2025-11-09 hours 5,6,7/,
    ],
    [
      'own price lag',
      async () => build(await without(files.both, `market = 'rt' AND ${eptHours('2025-11-08', 0, 24)}`, 'no-rt'), [files.metered], rtda, 'e2'),
      /node 48592 2025-11-09: rt price of node 48592 on 2025-11-08 hours all/,
    ],
    [
      'metered load',
      async () => build(files.both, [await without(files.metered, eptHours('2025-11-08', 10, 12), 'no-mload')], rtda, 'e3'),
      /node 48592 2025-11-09: metered load of area AECO on 2025-11-08 hours 10,11/,
    ],
  ];
  for (const [what, run, message] of cases) {
    try {
      await run();
      assert.unreachable(`${what}: expected an error`);
    } catch (e) {
      assert.instance(e, FeatureInputsMissingError, what);
      assert.match((e as Error).message, message, what);
      assert.match((e as Error).message, /rt\[price_lags, da_price, load_metered\(AECO\)\]/, what);
    }
  }
  // The load forecast of the epftoolbox set: RTO's forecast of 2017-01-10 removed.
  const set = (await detect(epf.pricesParquet, [epf.loadParquet], 'da', epf.conn)).set;
  const holes = join(dir, 'load-holes.parquet');
  await epf.conn.run(`COPY (SELECT * FROM read_parquet('${epf.loadParquet}') WHERE NOT (area = 'RTO' AND ${eptHours('2017-01-10', 0, 24)}))
    TO '${holes}' (FORMAT parquet)`);
  try {
    await build(epf.pricesParquet, [holes], set, 'e4', epf.conn);
    assert.unreachable('load forecast: expected an error');
  } catch (e) {
    assert.instance(e, FeatureInputsMissingError);
    // D = 2017-01-10 needs it for D, D = 2017-01-11 for D-1: two node-days.
    assert.match((e as Error).message, /2 node-day\(s\)/);
    assert.match((e as Error).message, /node 33092371 2017-01-10: load forecast of area RTO on 2017-01-10 hours all/);
  }
});

/** Prices from `cut` 00:00 EPT on (DA from the day after: it clears on D-1) and metered load from `cut` on, changed. */
async function perturbAfter(cut: string, tag: string): Promise<{ prices: string; metered: string }> {
  const from = `CAST(TIMESTAMP '${cut} 00:00:00' AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;
  const prices = join(dir, `perturbed-prices-${tag}.parquet`);
  const metered = join(dir, `perturbed-metered-${tag}.parquet`);
  const changed = (c: string) =>
    `CASE WHEN (market = 'rt' AND ts_utc >= ${from}) OR (market = 'da' AND ts_utc >= ${from} + INTERVAL 1 DAY) THEN coalesce(${c}, 1) * 1.7 + 13 ELSE ${c} END`;
  await conn.run(`COPY (SELECT * REPLACE (${changed('lmp')} AS lmp, ${changed('energy')} AS energy, ${changed('congestion')} AS congestion, ${changed('loss')} AS loss)
    FROM read_parquet('${files.both}')) TO '${prices}' (FORMAT parquet)`);
  await conn.run(`COPY (SELECT * REPLACE (CASE WHEN ts_utc >= ${from} THEN mw * 0.5 + 999 ELSE mw END AS mw) FROM read_parquet('${files.metered}'))
    TO '${metered}' (FORMAT parquet)`);
  return { prices, metered };
}

test('no look-ahead in any set: perturbing every input after the forecast time leaves the rows up to that day unchanged', async () => {
  const sets = [
    (await detect(files.rt, [], 'rt')).set,
    (await detect(files.both, [], 'rt')).set,
    (await detect(files.rt, [files.metered], 'rt')).set,
    (await detect(files.both, [files.metered], 'rt')).set,
    (await detect(files.da, [files.metered], 'da')).set,
  ];
  for (const set of sets) {
    const name = describeFeatureSet(set);
    const base = (await build(files.both, [files.metered], set, `nl-${name}`)).rows;
    for (const cut of ['2025-11-08', '2025-11-09']) {
      const p = await perturbAfter(cut, `${cut}`);
      // A DA target's own price of D is its target, perturbed from D on too.
      const prices = set.market === 'da' ? await perturbDaFrom(cut) : p.prices;
      const after = (await build(prices, [p.metered], set, `nl-${name}-${cut}`)).rows;
      const upTo = (rows: Record<string, unknown>[]) => rows.filter((r) => (r['day'] as string) <= cut);
      assert.is(upTo(after).length, upTo(base).length, `${name} ${cut}`);
      upTo(base).forEach((r, i) => {
        for (const c of featureColumns(set)) assert.is(upTo(after)[i]![c], r[c], `${name} ${cut} ${r['day']} h${r['hour']} ${c}`);
      });
      // The perturbation reached the next day's features.
      const next = after.find((r) => (r['day'] as string) > cut)!;
      assert.is.not(next['price_lag1_h'], base.find((r) => r['day'] === next['day'] && r['hour'] === next['hour'])!['price_lag1_h'], `${name} ${cut}`);
    }
  }
});

async function perturbDaFrom(cut: string): Promise<string> {
  const out = join(dir, `perturbed-da-${cut}.parquet`);
  const from = `CAST(TIMESTAMP '${cut} 00:00:00' AT TIME ZONE 'America/New_York' AS TIMESTAMPTZ)`;
  await conn.run(`COPY (SELECT * REPLACE (CASE WHEN ts_utc >= ${from} THEN lmp * 1.7 + 13 ELSE lmp END AS lmp) FROM read_parquet('${files.both}'))
    TO '${out}' (FORMAT parquet)`);
  return out;
}

test('the last day whose inputs are known: an RT+DA model waits for the DA price of D, an RT-only model does not', async () => {
  // DA ends on 2025-11-09 here; RT and metered load run to 2025-11-10.
  const prices = await without(files.both, `market = 'da' AND ${eptHours('2025-11-10', 0, 24)}`, 'da-to-09');
  const rtda = (await detect(prices, [files.metered], 'rt')).set;
  assert.equal([...(await lastKnownDays(conn, [prices], [files.metered], rtda))], [[ALDENE, '2025-11-09']]);
  const rt = (await detect(files.rt, [], 'rt')).set;
  assert.equal([...(await lastKnownDays(conn, [prices], [], rt))], [[ALDENE, '2025-11-11']]);
  // Metered load of D-1 is the latest it needs: with load to 2025-11-10, 2025-11-11 is known.
  const rtMetered = (await detect(files.rt, [files.metered], 'rt')).set;
  assert.equal([...(await lastKnownDays(conn, [prices], [files.metered], rtMetered))], [[ALDENE, '2025-11-11']]);
});

const SMALL: TrainSettings = {
  variants: [{ name: 'level', target: 'level' }],
  params: { ...DEFAULT_PARAMS, eta: 0.3, max_depth: 3, nthread: 1 },
  maxRounds: 20,
  earlyStoppingRounds: 5,
  validationDays: 14,
  refitOnWholeWindow: false,
};

test('a model records its set in the sidecar; the one-day (/predict) path builds its rows from that set', async () => {
  // A DA model of the epftoolbox slice trained without load: it forecasts a day that has no load forecast.
  const set = (await detect(epf.pricesParquet, [], 'da', epf.conn)).set;
  const out = join(dir, 'epf-no-load.parquet');
  await buildFeatures(epf.conn, { pricesParquet: [epf.pricesParquet], loadParquet: [], market: 'da', featureSet: set, outPath: out });
  const table = await readFeatureTable(epf.conn, out, set);
  const model = await trainModel(table, { firstDay: table.dayNumber[0]!, lastDay: dayNumberOf('2017-03-07') }, SMALL);
  try {
    const { sidecar, files: members } = modelFiles(model, 'm', {});
    assert.equal(sidecar.featureSet, set);
    assert.equal(sidecar.featureNames, featureColumns(set));
    const loaded = loadModel(JSON.parse(JSON.stringify(sidecar)), new Map(members.map((f) => [f.name, f.bytes])));
    try {
      assert.equal(loaded.featureSet, set);
      // 2017-03-15 has no load forecast in the slice: a load-free model still forecasts it.
      const day = await forecastDay(epf.conn, {
        pricesParquet: [epf.pricesParquet],
        loadParquet: [epf.loadParquet],
        market: 'da',
        model: loaded,
        nodeId: COMED,
        day: '2017-03-15',
        tempDir: dir,
      });
      assert.ok(day.ok, day.ok ? '' : day.error.message);
      // The legacy set (with the RTO forecast) cannot: the day's load forecast is missing.
      const legacy = await featuresForDay(epf.conn, {
        pricesParquet: [epf.pricesParquet],
        loadParquet: [epf.loadParquet],
        market: 'da',
        nodeId: COMED,
        day: '2017-03-15',
        tempDir: dir,
      });
      assert.not.ok(legacy.ok);
    } finally {
      disposeModel(loaded);
    }
  } finally {
    disposeModel(model);
  }
});

test('an RT model with the DA price learns the RT-DA spread (change_da); a set without the DA price cannot', async () => {
  assert.is(defaultSettingsFor((await detect(files.both, [], 'rt')).set), RT_WITH_DA_SETTINGS);
  assert.is(defaultSettingsFor((await detect(files.rt, [], 'rt')).set), DEFAULT_SETTINGS);
  assert.is(defaultSettingsFor((await detect(epf.pricesParquet, [epf.loadParquet], 'da', epf.conn)).set), DEFAULT_SETTINGS);
  const out = join(dir, 'epf-da.parquet');
  await buildFeatures(epf.conn, { pricesParquet: [epf.pricesParquet], loadParquet: [epf.loadParquet], market: 'da', outPath: out });
  const table = await readFeatureTable(epf.conn, out, 'da');
  try {
    await trainModel(
      table,
      { firstDay: table.dayNumber[0]!, lastDay: dayNumberOf('2017-03-07') },
      { ...SMALL, variants: [{ name: 'spread', target: 'change_da' }] },
    );
    assert.unreachable('expected an error');
  } catch (e) {
    assert.match((e as Error).message, /change_da member needs the feature da_price_h/);
  }
  // RT made from the slice's DA (rt = 1.1 × da + 2): the spread member maps its forecast back onto the DA price of the hour.
  const both = join(dir, 'epf-rt.parquet');
  await epf.conn.run(`COPY (SELECT * FROM read_parquet('${epf.pricesParquet}')
    UNION ALL SELECT * REPLACE ('rt' AS market, lmp * 1.1 + 2 AS lmp) FROM read_parquet('${epf.pricesParquet}')) TO '${both}' (FORMAT parquet)`);
  const set = (await detect(both, [epf.loadParquet], 'rt', epf.conn)).set;
  assert.is(describeFeatureSet(set), 'rt[price_lags, da_price, load_forecast(RTO)]');
  const rtOut = join(dir, 'epf-rt-features.parquet');
  await buildFeatures(epf.conn, { pricesParquet: [both], loadParquet: [epf.loadParquet], market: 'rt', featureSet: set, outPath: rtOut });
  const rt = await readFeatureTable(epf.conn, rtOut, set);
  const r = await walkForward(rt, {
    testFirstDay: '2017-03-08',
    testLastDay: '2017-03-14',
    recalibration: 'weekly',
    window: { kind: 'expanding' },
    settings: { ...SMALL, variants: [{ name: 'spread', target: 'change_da' }] },
  });
  const o = r.metrics.overall;
  assert.ok(o.daBaselineMae !== undefined && o.rmaeDa !== undefined, 'an RT backtest is scored against the DA price too');
  // The DA baseline misses by 0.1 × da + 2 every hour; the spread model learns that.
  assert.ok(o.rmaeDa! < 0.5, `rMAE against the DA price ${o.rmaeDa}`);
});

test.run();
