// A small PJM asset graph for the server tests: validated prices and load as daily
// partitions cut from the committed epftoolbox slice (COMED zone, DA; load forecasts RTO and
// COMED, the epftoolbox source's mapping), and a `pjm/model` trained by the forecasting code
// (buildFeatures -> trainModel -> modelFiles -> encodeModelBundle, as the real asset does,
// with the default ensemble's members) in a few seconds. `modelState` lets a test
// publish a different model (seed) or have the model's check block it.
// Also usable as ASSET_DEFINITIONS for a server started as a child process.
import { fileURLToPath } from 'node:url';
import { allPartitionsMapping, dailyPartitions, defineAsset, defineDefinitions, type AssetDefinition, type Metadata } from '../../../runtime/index.ts';
import { buildFeatures, type FeatureSet } from '../../../assets/pjm/features/index.ts';
import { dayNumberOf, readFeatureTable } from '../../../assets/pjm/model/dataset.ts';
import { DEFAULT_PARAMS, DEFAULT_SETTINGS } from '../../../assets/pjm/model/settings.ts';
import { disposeModel, trainModel } from '../../../assets/pjm/model/train.ts';
import { modelFiles } from '../../../assets/pjm/model/persist.ts';
import { encodeModelBundle } from '../../../assets/pjm/model-bundle.ts';

export const FIXTURE_CSV = fileURLToPath(new URL('../../fixtures/pjm-forecasting/PJM-2016-10-29_2017-03-14.csv', import.meta.url));
export const FIRST_DAY = '2016-11-01';
export const LAST_DAY = '2016-12-20';
export const COMED = 33092371;

/** `featureSet`: the inputs the model is trained on (default: the DA set with the RTO load forecast). */
export const modelState: { seed: number; rounds: number; block: boolean; featureSet?: FeatureSet } = { seed: 7, rounds: 30, block: false };

const sql = (s: string): string => `'${s.replaceAll("'", "''")}'`;

/** The fixture's rows of one EPT day, with real UTC instants (the grid's local hours mapped through America/New_York). */
const dayRows = (day: string): string => `
  SELECT (CAST(c0 AS TIMESTAMP) AT TIME ZONE 'America/New_York') AS ts_utc, CAST(c1 AS DOUBLE) AS price,
         CAST(c2 AS DOUBLE) AS load_rto, CAST(c3 AS DOUBLE) AS load_comed
  FROM read_csv(${sql(FIXTURE_CSV)}, header = true, all_varchar = true, names = ['c0', 'c1', 'c2', 'c3'])
  WHERE CAST(CAST(c0 AS TIMESTAMP) AS DATE) = DATE ${sql(day)}`;

const partitions = dailyPartitions({ start: FIRST_DAY, end: LAST_DAY });

const prices = defineAsset({
  key: 'pjm/validated/prices',
  codeVersion: '1',
  io: 'table',
  partitions,
  materialize: (ctx) => ({
    sql: `SELECT ts_utc, CAST(${COMED} AS BIGINT) AS node_id, 'COMED' AS node_name, 'ZONE' AS node_type, 'COMED' AS zone, 'da' AS market,
                 price AS lmp, CAST(NULL AS DOUBLE) AS energy, CAST(NULL AS DOUBLE) AS congestion, CAST(NULL AS DOUBLE) AS loss
          FROM (${dayRows(ctx.partition)}) ORDER BY ts_utc`,
  }),
});

const load = defineAsset({
  key: 'pjm/validated/load',
  codeVersion: '1',
  io: 'table',
  partitions,
  materialize: (ctx) => ({
    sql: `SELECT ts_utc, a.area, 'forecast' AS kind, CASE a.area WHEN 'RTO' THEN load_rto ELSE load_comed END AS mw
          FROM (${dayRows(ctx.partition)}), (VALUES ('RTO'), ('COMED')) a(area) ORDER BY ts_utc, area`,
  }),
});

const model = defineAsset({
  key: 'pjm/model',
  codeVersion: '1',
  io: 'file',
  deps: [
    { asset: 'pjm/validated/prices', mapping: allPartitionsMapping() },
    { asset: 'pjm/validated/load', mapping: allPartitionsMapping() },
  ],
  checks: [{ name: 'not_blocked', check: () => ({ passed: !modelState.block, message: modelState.block ? 'blocked by the test' : '' }) }],
  async materialize(ctx) {
    const conn = await ctx.duckdb();
    const out = `${ctx.tempDir}/features.parquet`;
    await buildFeatures(conn, { pricesParquet: await ctx.input('prices').paths(), loadParquet: await ctx.input('load').paths(), market: 'da', featureSet: modelState.featureSet, outPath: out });
    const table = await readFeatureTable(conn, out, modelState.featureSet ?? 'da');
    const trained = await trainModel(
      table,
      { firstDay: table.dayNumber[0]!, lastDay: dayNumberOf('2016-12-15') },
      {
        ...DEFAULT_SETTINGS,
        // A two-member ensemble, fixed here so the tests do not follow the production default.
        variants: [
          { name: 'change_lag1', target: 'change_lag1' },
          { name: 'level', target: 'level' },
        ],
        maxRounds: modelState.rounds,
        earlyStoppingRounds: 10,
        validationDays: 7,
        params: { ...DEFAULT_PARAMS, nthread: 1, seed: modelState.seed, max_depth: 3 },
      },
      ctx.signal,
    );
    try {
      const { sidecar, files } = modelFiles(trained, 'model', { note: `test model, seed ${modelState.seed}` });
      return { file: encodeModelBundle(files), metadata: { sidecar: JSON.parse(JSON.stringify(sidecar)) as Metadata } };
    } finally {
      disposeModel(trained);
    }
  },
});

export default defineDefinitions({ assets: [prices, load, model] as AssetDefinition<unknown>[] });
