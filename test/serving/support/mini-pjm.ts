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
import { dayNumberOf, dayOfNumber } from '../../../lib/days.ts';
import { readFeatureTable, rowsBetween, type FeatureTable } from '../../../assets/pjm/model/dataset.ts';
import { conformalCalibration, type ConformalCalibration } from '../../../assets/pjm/model/calibration.ts';
import { DEFAULT_PARAMS, DEFAULT_SETTINGS } from '../../../assets/pjm/model/settings.ts';
import { disposeModel, predictRows, trainModel, type TrainedModel } from '../../../assets/pjm/model/train.ts';
import { modelFiles } from '../../../assets/pjm/model/persist.ts';
import { encodeModelBundle } from '../../../assets/pjm/model-bundle.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export const FIXTURE_CSV = fileURLToPath(new URL('../../fixtures/pjm-forecasting/PJM-2016-10-29_2017-03-14.csv', import.meta.url));
export const FIRST_DAY = '2016-11-01';
export const LAST_DAY = '2016-12-20';
export const COMED = 33092371;

/** `featureSet`: the inputs the model is trained on (default: the DA set with the RTO load forecast). */
/**
 * `calibrated`: give the sidecar a conformal calibration (as pjm/model takes from pjm/backtest)
 * from the model's own residuals on the days after its training window (2016-12-16..20).
 */
export const modelState: { seed: number; rounds: number; block: boolean; calibrated: boolean; featureSet?: FeatureSet } = {
  seed: 7,
  rounds: 30,
  block: false,
  calibrated: false,
};

/** The days the mini model is trained on end here; the rest of the data is held out. */
export const TRAIN_LAST_DAY = '2016-12-15';

/** The fixture's rows of one EPT day, with real UTC instants (the grid's local hours mapped through America/New_York). */
const dayRows = (day: string): string => `
  SELECT (CAST(c0 AS TIMESTAMP) AT TIME ZONE 'America/New_York') AS ts_utc, CAST(c1 AS DOUBLE) AS price,
         CAST(c2 AS DOUBLE) AS load_rto, CAST(c3 AS DOUBLE) AS load_comed
  FROM read_csv(${sqlString(FIXTURE_CSV)}, header = true, all_varchar = true, names = ['c0', 'c1', 'c2', 'c3'])
  WHERE CAST(CAST(c0 AS TIMESTAMP) AS DATE) = DATE ${sqlString(day)}`;

/** Per-hour conformal quantiles of the held-out days' residuals: 5 per hour, real forecasts of real prices. */
function heldOutCalibration(model: TrainedModel, table: FeatureTable): ConformalCalibration {
  const { start, end } = rowsBetween(table, dayNumberOf(TRAIN_LAST_DAY) + 1, dayNumberOf(LAST_DAY));
  const forecast = predictRows(model, table, start, end);
  const hours = Array.from({ length: end - start }, (_, i) => ({
    day: dayOfNumber(table.dayNumber[start + i]!),
    hour: table.hour[start + i]!,
    actual: table.target[start + i]!,
    forecast: forecast[i]!,
  }));
  return conformalCalibration(hours, { days: 5, minPerHour: 5 });
}

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
    await buildFeatures(conn, {
      pricesParquet: await ctx.input('prices').paths(),
      loadParquet: await ctx.input('load').paths(),
      market: 'da',
      featureSet: modelState.featureSet,
      outPath: out,
    });
    const table = await readFeatureTable(conn, out, modelState.featureSet ?? 'da');
    const trained = await trainModel(
      table,
      { firstDay: table.dayNumber[0]!, lastDay: dayNumberOf(TRAIN_LAST_DAY) },
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
      { signal: ctx.signal },
    );
    try {
      const { sidecar, files } = modelFiles(trained, 'model', { note: `test model, seed ${modelState.seed}` });
      const calibrated = modelState.calibrated ? { ...sidecar, calibration: heldOutCalibration(trained, table) } : sidecar;
      return { file: encodeModelBundle(files), metadata: { sidecar: JSON.parse(JSON.stringify(calibrated)) as Metadata } };
    } finally {
      disposeModel(trained);
    }
  },
});

export default defineDefinitions({ assets: [prices, load, model] as AssetDefinition<unknown>[] });
