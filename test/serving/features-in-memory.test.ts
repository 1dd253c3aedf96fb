// /predict computes a new node-day's features in TypeScript from rows it keeps in memory
// (serving/data/node-rows.ts, assets/pjm/features/one-day.ts) instead of a DuckDB query per
// day. Those rows must be the pipeline's: for every node-day of the mini PJM store, the
// server's rows equal the features asset's (`buildFeatures` over all history) value for
// value, with the same columns, and every day (those the pipeline leaves out too) gets what
// the feature SQL for that one day gives: the same rows, or the same missing inputs.
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addDays } from '../../lib/days.ts';
import { duckdbConnect, type Instance } from '../../runtime/index.ts';
import { buildFeatures, featureColumns, featuresForDay, legacyFeatureSet, type FeatureSet } from '../../assets/pjm/features/index.ts';
import { featureTableFromRows } from '../../assets/pjm/model/dataset.ts';
import { FeatureService } from '../../serving/data/feature-service.ts';
import { HttpError } from '../../serving/http/errors.ts';
import { ServingMetrics } from '../../serving/metrics.ts';
import { tempDir } from '../support/tmp.ts';
import { COMED, FIRST_DAY } from './support/mini-pjm.ts';
import { materializeMini, MISSING_DAY, openMini } from './support/server.ts';

const SETS: Record<string, FeatureSet> = {
  'the legacy DA set (RTO and zonal load forecasts)': legacyFeatureSet('da', 'RTO'),
  'DA price lags alone': { market: 'da', inputs: ['price_lags'], loadForecastArea: null, loadMeteredArea: null },
};

let instance: Instance<unknown>;
let service: FeatureService;

test.before(async () => {
  instance = await openMini();
  await materializeMini(instance);
  service = new FeatureService({
    instance,
    log: pino({ level: 'silent' }),
    metrics: new ServingMetrics({ defaultMetrics: false }),
    pollIntervalMs: 60_000,
    cacheSize: 1000,
  });
  await service.start();
});

test.after(async () => {
  await service.stop();
  await instance.close();
});

const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));

async function partitionFiles(asset: string): Promise<string[]> {
  const current = (await instance.store.snapshot([asset as never])).get(asset as never)!;
  return Promise.all([...current.values()].map((c) => instance.storage.localPath(c.location)));
}

for (const [name, set] of Object.entries(SETS)) {
  test(`${name}: the server's feature rows of every node-day equal the features asset's`, async () => {
    const conn = await duckdbConnect();
    const out = join(tempDir('features-in-memory'), 'features.parquet');
    const pricesParquet = await partitionFiles('pjm/validated/prices');
    const loadParquet = await partitionFiles('pjm/validated/load');
    await buildFeatures(conn, { pricesParquet, loadParquet, market: 'da', featureSet: set, outPath: out });
    const rows = (
      await conn.runAndReadAll(`SELECT *, CAST(day AS VARCHAR) AS day_text FROM read_parquet('${out}') ORDER BY node_id, day, hour`)
    ).getRowObjectsJS() as Record<string, unknown>[];
    conn.closeSync();
    const columns = featureColumns(set);
    const days = [...new Set(rows.map((r) => String(r['day_text'])))];
    assert.ok(days.length >= 40, `the pipeline made ${days.length} days`);
    const node = await service.resolveNode(COMED);
    for (const day of days) {
      const expected = rows.filter((r) => r['day_text'] === day);
      const got = (await service.forDay(node, 'da', day, set)).table;
      assert.equal(got.featureNames, columns, `${day}: columns`);
      assert.is(got.rows, expected.length, `${day}: rows`);
      for (let i = 0; i < expected.length; i++) {
        const e = expected[i]!;
        assert.is(got.hour[i], Number(e['hour']), `${day} row ${i}: hour`);
        assert.ok(Object.is(got.target[i], num(e['target'])), `${day} h${i}: target ${got.target[i]} against ${String(e['target'])}`);
        for (const c of columns) assert.ok(Object.is(got.features[c]![i], num(e[c])), `${day} h${i} ${c}: ${got.features[c]![i]} against ${String(e[c])}`);
      }
    }
  });

  test(`${name}: every day, those without every input too, gets what the feature SQL of that day gives`, async () => {
    const conn = await duckdbConnect();
    const node = await service.resolveNode(COMED);
    const pricesAll = await partitionFiles('pjm/validated/prices');
    const loadAll = await partitionFiles('pjm/validated/load');
    const fileOf = (files: string[], day: string): string[] => files.filter((f) => f.includes(`/${day}/`));
    let missing = 0;
    for (let day = FIRST_DAY; day <= MISSING_DAY; day = addDays(day, 1)) {
      const pricesParquet = [7, 6, 5, 4, 3, 2, 1, 0].flatMap((lag) => fileOf(pricesAll, addDays(day, -lag)));
      let loadParquet = [addDays(day, -1), day].flatMap((d) => fileOf(loadAll, d));
      if (loadParquet.length === 0) loadParquet = fileOf(loadAll, '2016-12-20');
      const sql = await featuresForDay(conn, { pricesParquet, loadParquet, market: 'da', featureSet: set, nodeId: COMED, day });
      const served = await service.forDay(node, 'da', day, set).catch((err: unknown) => err);
      if (sql.ok) {
        assert.ok(!(served instanceof Error), `${day}: the server refused a day the SQL builds: ${String(served)}`);
        const table = (served as Awaited<ReturnType<FeatureService['forDay']>>).table;
        sql.rows.forEach((r, i) => {
          assert.ok(Object.is(table.target[i], num(r.target)), `${day} h${i}: target`);
          for (const c of featureColumns(set))
            assert.ok(Object.is(table.features[c]![i], num(r.features[c])), `${day} h${i} ${c}: ${table.features[c]![i]} against ${r.features[c]}`);
        });
      } else {
        missing++;
        assert.instance(served, HttpError, `${day}: the SQL says missing inputs, the server answered`);
        assert.is((served as HttpError).code, 'missing_inputs');
        assert.equal((served as HttpError).details?.['missing'], sql.error.missing, `${day}: missing inputs`);
      }
    }
    conn.closeSync();
    // The first 7 days (their lags reach before the data), and for a load-reading set the day after the data.
    assert.ok(missing >= 7, `days without every input: ${missing}`);
  });
}

test('the served one-day table (featureTableOfDay) is the table featureTableFromRows makes of the SQL rows of that day', async () => {
  const set = SETS['the legacy DA set (RTO and zonal load forecasts)']!;
  const conn = await duckdbConnect();
  const node = await service.resolveNode(COMED);
  const pricesAll = await partitionFiles('pjm/validated/prices');
  const loadAll = await partitionFiles('pjm/validated/load');
  const fileOf = (files: string[], day: string): string[] => files.filter((f) => f.includes(`/${day}/`));
  let compared = 0;
  for (let day = addDays(FIRST_DAY, 7); day <= addDays(FIRST_DAY, 10); day = addDays(day, 1)) {
    const pricesParquet = [7, 6, 5, 4, 3, 2, 1, 0].flatMap((lag) => fileOf(pricesAll, addDays(day, -lag)));
    const loadParquet = [addDays(day, -1), day].flatMap((d) => fileOf(loadAll, d));
    const sql = await featuresForDay(conn, { pricesParquet, loadParquet, market: 'da', featureSet: set, nodeId: COMED, day });
    if (!sql.ok) continue;
    assert.equal((await service.forDay(node, 'da', day, set)).table, featureTableFromRows(sql.rows, set), day);
    compared++;
  }
  conn.closeSync();
  assert.ok(compared >= 3, `days compared: ${compared}`);
});

test.run();
