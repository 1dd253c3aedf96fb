// The modelling stages of the PJM pipeline as assets (all unpartitioned):
//   pjm/features      every complete feature row, per node, from all validated days
//   pjm/model         the XGBoost model (a JSON file Python xgboost loads) with its sidecar in metadata
//   pjm/backtest      walk-forward evaluation against the naive and published forecasts
//   pjm/forecast      the latest day-ahead forecast per node
//   pjm/model_export  the current model and sidecar copied to <DATA_DIR>/models for people and tools
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { defineAsset, type AssetDefinition, type AssetInput, type Metadata } from '../../runtime/index.ts';
import type { PjmConfig } from './config.ts';
import { ASSET_KEYS } from './data-assets.ts';
import { buildFeatures, type Market } from './features/index.ts';
import { DEFAULT_SETTINGS, disposeModel, loadModel, trainModelFromFeatures, type ModelSidecar, type TrainSettings } from './model/index.ts';
import { backtest, EPFTOOLBOX_TEST_PERIOD, type Recalibration } from './backtest/index.ts';
import { latestForecast } from './forecast/index.ts';
import { decodeModelBundle, encodeModelBundle } from './model-bundle.ts';
import { DEFAULT_EPFTOOLBOX_DIR } from './config.ts';

export interface ModelStageOptions {
  readonly config: PjmConfig;
  /** Where pjm/model_export writes: <DATA_DIR>/models. */
  readonly modelDir: string;
  readonly recalibration: Recalibration;
  readonly settings?: TrainSettings;
}

/** The target market: real-time when the pipeline has it (the harder, more valuable forecast), else day-ahead. */
export function targetMarket(config: PjmConfig): Market {
  return config.markets.includes('rt') ? 'rt' : 'da';
}

export function modelBaseName(market: Market): string {
  return `xgb_${market}_lmp`;
}

/** Parses PJM_BACKTEST_RECALIBRATION: monthly (default), weekly, daily, or a number of days. */
export function recalibrationFromEnv(env: Readonly<Record<string, string | undefined>>): Recalibration {
  const v = env.PJM_BACKTEST_RECALIBRATION?.trim();
  if (!v || v === 'monthly') return 'monthly';
  if (v === 'weekly' || v === 'daily') return v;
  const n = Number(v);
  if (Number.isInteger(n) && n > 0) return { everyDays: n };
  throw new Error(`PJM_BACKTEST_RECALIBRATION=${JSON.stringify(v)} is not valid: expected monthly, weekly, daily or a whole number of days.`);
}

/** The test period: epftoolbox's standard one where the data covers it, else the last fifth of the days (at least 7). */
function testPeriod(config: PjmConfig, firstFeatureDay: string, lastFeatureDay: string): { testFirstDay: string; testLastDay: string } {
  const { testFirstDay, testLastDay } = EPFTOOLBOX_TEST_PERIOD;
  if (config.source === 'epftoolbox' && firstFeatureDay < testFirstDay && lastFeatureDay >= testFirstDay) {
    return { testFirstDay, testLastDay: lastFeatureDay < testLastDay ? lastFeatureDay : testLastDay };
  }
  const first = Date.parse(`${firstFeatureDay}T00:00:00Z`);
  const last = Date.parse(`${lastFeatureDay}T00:00:00Z`);
  const days = Math.round((last - first) / 86_400_000) + 1;
  const testDays = Math.max(7, Math.floor(days / 5));
  if (testDays >= days) throw new Error(`Only ${days} days of complete features (${firstFeatureDay}..${lastFeatureDay}): too few to hold out a test period. Widen PJM_START..PJM_END.`);
  return { testFirstDay: new Date(last - (testDays - 1) * 86_400_000).toISOString().slice(0, 10), testLastDay: lastFeatureDay };
}

async function onePath(input: AssetInput): Promise<string> {
  const [path] = await input.paths();
  if (!path) throw new Error(`Input ${input.asset} has no file.`);
  return path;
}

export function modelAssets(options: ModelStageOptions): AssetDefinition<unknown>[] {
  const { config } = options;
  const market = targetMarket(config);
  const settings = options.settings ?? DEFAULT_SETTINGS;
  const settingsHash = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 8);

  const features = defineAsset({
    key: ASSET_KEYS.features,
    deps: [
      { asset: ASSET_KEYS.validatedPrices, as: 'prices' },
      { asset: ASSET_KEYS.validatedLoad, as: 'load' },
    ],
    group: 'pjm',
    description: `Feature rows for ${market.toUpperCase()} forecasts of day D from what is known at the end of D-1, per node: price profiles of D-1, D-2, D-3 and D-7, D-1 daily stats, load forecasts, calendar and holidays${market === 'rt' ? ', DA price of the hour' : ''}. The target is kept apart.`,
    io: 'table',
    codeVersion: `1:${market}`,
    async materialize(ctx) {
      const outPath = join(ctx.tempDir, 'features.parquet');
      const r = await buildFeatures(await ctx.duckdb(), {
        pricesParquet: await ctx.input('prices').paths(),
        loadParquet: await ctx.input('load').paths(),
        market,
        outPath,
      });
      if (r.rows === 0) throw new Error(`No complete feature rows for market ${market}: every day lacks an input (${r.incompleteDays} incomplete node-days). Check the validated data covers at least 8 consecutive days.`);
      return {
        parquetFile: outPath,
        metadata: { market, nodes: r.nodes, firstDay: r.firstDay, lastDay: r.lastDay, incompleteNodeDays: r.incompleteDays, featureCount: r.columns.length },
      };
    },
  });

  const model = defineAsset({
    key: ASSET_KEYS.model,
    deps: [ASSET_KEYS.features],
    group: 'pjm',
    pool: 'xgboost-training',
    description: `XGBoost model of the ${market.toUpperCase()} LMP: an average of ${settings.variants.length} global model${settings.variants.length === 1 ? '' : 's'} over nodes and hours (${settings.variants.map((v) => v.name).join(', ')}), asinh-median price transform, time-ordered validation split with early stopping. The file bundles each member's XGBoost JSON (pjm/model_export writes them out for Python); the sidecar in the metadata has features, target, window, parameters, learning curves and importance.`,
    io: 'file',
    // The training settings are part of the model's code: changing them makes the model stale.
    codeVersion: `1:${market}:${settingsHash}`,
    async materialize(ctx) {
      const { model: trained, files } = await trainModelFromFeatures(await ctx.duckdb(), {
        featuresParquet: await onePath(ctx.input('features')),
        market,
        settings,
        baseName: modelBaseName(market),
        signal: ctx.signal,
      });
      disposeModel(trained);
      const path = join(ctx.tempDir, 'model.bundle');
      await writeFile(path, encodeModelBundle(files.files));
      for (const m of files.sidecar.members) ctx.log.info(`member ${m.variant.name}: ${m.rounds} rounds on ${trained.window.trainRows} rows (${trained.window.firstDay}..${trained.window.lastDay})`);
      return {
        file: path,
        metadata: {
          sidecar: files.sidecar as unknown as Metadata,
          market,
          members: files.sidecar.members.map((m) => `${m.variant.name}: ${m.rounds} rounds`),
          trainRows: trained.window.trainRows,
          trainingWindow: `${trained.window.firstDay}..${trained.window.lastDay}`,
        },
      };
    },
  });

  const backtestAsset = defineAsset({
    key: ASSET_KEYS.backtest,
    deps: [ASSET_KEYS.features],
    group: 'pjm',
    pool: 'xgboost-training',
    description: `Walk-forward backtest (${typeof options.recalibration === 'string' ? options.recalibration : `every ${options.recalibration.everyDays} days`} recalibration, expanding window): MAE, RMSE, sMAPE and rMAE against the naive forecast, overall, by hour and by node${config.source === 'epftoolbox' ? ', beside the published epftoolbox ensembles' : ''}.`,
    io: 'json',
    codeVersion: `1:${market}:${settingsHash}:${JSON.stringify(options.recalibration)}`,
    async materialize(ctx) {
      const conn = await ctx.duckdb();
      const featuresPath = await onePath(ctx.input('features'));
      const span = await conn.runAndReadAll(`SELECT CAST(min(day) AS VARCHAR), CAST(max(day) AS VARCHAR) FROM read_parquet('${featuresPath.replaceAll("'", "''")}')`);
      const [first, last] = span.getRows()[0] as [string, string];
      const period = testPeriod(config, first, last);
      const published = join(DEFAULT_EPFTOOLBOX_DIR, 'Forecasts_PJM_DNN_LEAR_ensembles.csv');
      const outcome = await backtest(conn, {
        featuresParquet: featuresPath,
        market,
        ...period,
        recalibration: options.recalibration,
        settings,
        publishedForecastsCsv: config.source === 'epftoolbox' ? published : undefined,
        signal: ctx.signal,
        onBlock: (b, done, total) => ctx.log.info(`retrain ${done}/${total}: trained on ${b.trainFirstDay}..${b.trainLastDay}, tested ${b.testFirstDay}..${b.testLastDay}, MAE ${b.mae.toFixed(3)}`),
      });
      const forecasts = outcome.result.forecasts;
      const overall = outcome.report.metrics.overall;
      // The stored value is what the backtest found, so the same features and code give the
      // same data version (and nothing downstream reruns for nothing); how long it took varies
      // from run to run and goes in the metadata.
      const { seconds, blocks, ...findings } = outcome.report;
      const report = { ...findings, blocks: blocks.map(({ trainSeconds: _, ...block }) => block) };
      return {
        value: { report, forecasts } as never,
        metadata: {
          summary: outcome.table,
          mae: overall.mae,
          rmse: overall.rmse,
          smape: overall.smape,
          rmae: overall.rmae,
          hours: forecasts.length,
          comparison: outcome.report.comparison as never,
          timing: { seconds, trainSeconds: blocks.map((b) => b.trainSeconds) },
        },
      };
    },
  });

  const forecast = defineAsset({
    key: ASSET_KEYS.forecast,
    deps: [ASSET_KEYS.model, { asset: ASSET_KEYS.validatedPrices, as: 'prices' }, { asset: ASSET_KEYS.validatedLoad, as: 'load' }],
    group: 'pjm',
    description: 'The latest day-ahead forecast per node: the day after the last validated price, or the last day whose inputs are all known.',
    io: 'table',
    codeVersion: '1',
    async materialize(ctx) {
      const conn = await ctx.duckdb();
      const modelInput = ctx.input('model');
      const sidecar = sidecarOf(modelInput);
      const path = await onePath(modelInput);
      const trained = loadModel(sidecar, decodeModelBundle(await readFile(path), path));
      try {
        const inputs = { pricesParquet: await ctx.input('prices').paths(), loadParquet: await ctx.input('load').paths(), market, tempDir: ctx.tempDir };
        const outPath = join(ctx.tempDir, 'forecast.parquet');
        let result = await latestForecast(conn, { ...inputs, model: trained, outPath });
        // With historical data the day after the last price has no load forecast yet; forecast the last day that has every input.
        if (result.forecasts.length === 0 && result.failures.length > 0) {
          const lastLoad = await conn.runAndReadAll(`SELECT CAST(max(CAST(timezone('America/New_York', ts_utc) AS DATE)) AS VARCHAR) FROM ${await ctx.input('load').sql()} WHERE kind = 'forecast'`);
          const day = lastLoad.getRows()[0]?.[0] as string | null;
          if (day) result = await latestForecast(conn, { ...inputs, model: trained, outPath, day });
        }
        if (result.forecasts.length === 0) throw new Error(`No node could be forecast: ${result.failures.map((f) => f.message).join(' ')}`);
        for (const f of result.failures) ctx.log.warn(f.message);
        return {
          parquetFile: outPath,
          metadata: { days: [...new Set(result.forecasts.map((f) => f.day))].join(', '), nodes: result.forecasts.length, failures: result.failures.map((f) => f.message) },
        };
      } finally {
        disposeModel(trained);
      }
    },
  });

  const modelExport = defineAsset({
    key: ASSET_KEYS.modelExport,
    deps: [ASSET_KEYS.model, ASSET_KEYS.backtest],
    group: 'pjm',
    description: `Writes the current model's members to ${options.modelDir}/${modelBaseName(market)}*.json (each loads in Python: xgb.Booster(model_file=...)) with the sidecar ${modelBaseName(market)}.sidecar.json (backtest metrics included).`,
    io: 'json',
    codeVersion: '1',
    async materialize(ctx) {
      const modelInput = ctx.input('model');
      const meta = { sidecar: sidecarOf(modelInput) };
      const report = (await ctx.input('backtest').json<{ report: { metrics: { overall: Record<string, number> }; comparison: unknown; testFirstDay: string; testLastDay: string; recalibration: unknown } }>()).report;
      const sidecar: ModelSidecar = {
        ...meta.sidecar,
        metrics: {
          ...meta.sidecar.metrics,
          backtest: { testFirstDay: report.testFirstDay, testLastDay: report.testLastDay, recalibration: report.recalibration as never, overall: report.metrics.overall, comparison: report.comparison as never },
          modelDataVersion: modelInput.partitions[0]!.dataVersion,
        },
      };
      await mkdir(options.modelDir, { recursive: true });
      const bundlePath = await onePath(modelInput);
      const members = decodeModelBundle(await readFile(bundlePath), bundlePath);
      // Each member as its own XGBoost JSON file (the sidecar names them), then the sidecar;
      // temp + rename, so a reader never sees half a file.
      const written: string[] = [];
      for (const [name, bytes] of [...members, [`${modelBaseName(market)}.sidecar.json`, Buffer.from(JSON.stringify(sidecar, null, 2))] as const]) {
        const target = join(options.modelDir, name);
        await writeFile(`${target}.tmp`, bytes);
        await rename(`${target}.tmp`, target);
        written.push(target);
      }
      // File names, not paths: the value must not depend on where DATA_DIR is (the directory goes in the metadata).
      return { value: { files: written.map((f) => basename(f)), modelDataVersion: modelInput.partitions[0]!.dataVersion }, metadata: { dir: options.modelDir } };
    },
  });

  return [features, model, backtestAsset, forecast, modelExport] as AssetDefinition<unknown>[];
}

/** The sidecar of the consumed model version, from its materialization's metadata. */
function sidecarOf(input: AssetInput): ModelSidecar {
  const sidecar = input.metadata().sidecar as unknown as ModelSidecar | undefined;
  if (!sidecar || sidecar.format !== 'pjm-lmp-xgb/1') throw new Error(`The consumed ${input.asset} version has no model sidecar in its metadata; rematerialize ${input.asset}.`);
  return sidecar;
}
