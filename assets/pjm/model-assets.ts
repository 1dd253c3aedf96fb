// The modelling stages of the PJM pipeline as assets:
//   pjm/feature_set   which inputs the validated data has (unpartitioned)
//   pjm/features      node x day: the complete feature rows of one node and target day
// and, unpartitioned, reading every feature partition:
//   pjm/model         the XGBoost model (a JSON file Python xgboost loads) with its sidecar in metadata
//   pjm/backtest      walk-forward evaluation against the naive and published forecasts
//   pjm/forecast      the latest day-ahead forecast per node
//   pjm/model_export  the current model and sidecar copied to <DATA_DIR>/models for people and tools
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  allPartitionsMapping,
  defineAsset,
  describePartition,
  dimensionMapping,
  trailingWindowMapping,
  type BatchOutput,
  type PartitionKey,
  type AssetDefinition,
  type AssetInput,
  type AssetRecords,
  type Metadata,
  type MultiPartitions,
} from '../../runtime/index.ts';
import { addDays, dayNumberOf } from '../../lib/days.ts';
import type { PjmConfig } from './config.ts';
import { ASSET_KEYS, splitNodeDay } from './data-assets.ts';
import {
  buildNodeDaysFeatures,
  describeChoice,
  describeFeatureSet,
  detectFeatureSet,
  featureColumns,
  normaliseFeatureSet,
  PRICE_LAGS,
  type FeatureSet,
  type Market,
} from './features/index.ts';
import {
  DEFAULT_SETTINGS,
  defaultSettingsFor,
  disposeModel,
  loadModel,
  RT_WITH_DA_SETTINGS,
  trainModelFromFeatures,
  type ModelSidecar,
  type TrainSettings,
} from './model/index.ts';
import { backtest, EPFTOOLBOX_TEST_PERIOD, type Recalibration } from './backtest/index.ts';
import { latestForecast } from './forecast/index.ts';
import type { DayForecast } from './forecast/forecast.ts';
import { ServedForecastLog } from './served/log.ts';
import { importLegacyServedLog } from './served/legacy-log.ts';
import { servedFromDayForecast } from './served/from-forecast.ts';
import { decodeModelBundle, encodeModelBundle } from './model-bundle.ts';
import type { ConformalCalibration } from './model/calibration.ts';
import { noWorseVerdict } from './model/no-worse.ts';
import { familiesSidecar, learFileName, servableModel } from './model/served.ts';
import { SIDECAR_FORMATS } from './model/sidecar.ts';
import { checkLearArtifact, encodeLearArtifact } from './lear/served.ts';
import { DEFAULT_EPFTOOLBOX_DIR, PJM_HUBS } from './config.ts';
import { sqlString } from '../../lib/duckdb/sql.ts';

/** How far back a feature row's price lags reach, in days (D-7). */
const MAX_PRICE_LAG = Math.max(...PRICE_LAGS);
/** How many days of one node one features step computes at most (a backfill; a daily run has one). */
const FEATURE_BATCH_DAYS = 92;

export interface ModelStageOptions {
  readonly config: PjmConfig;
  /** The price assets' node x day partitions (pjm/features has the same). */
  readonly partitions: { readonly nodeDays: MultiPartitions };
  /** Where pjm/model_export writes: <DATA_DIR>/models. */
  readonly modelDir: string;
  readonly recalibration: Recalibration;
  readonly settings?: TrainSettings;
  /**
   * Whether pjm/forecast keeps what it issues in the served-forecast log (the lineage store's asset
   * records, ./served/log.ts), and the DATA_DIR where an earlier version's file of it may wait to
   * be imported (./served/legacy-log.ts); none: not kept.
   */
  readonly keepServed?: { readonly legacyDataDir: string };
}

/** The target market: real-time when the pipeline has it (the harder, more valuable forecast), else day-ahead. */
export function targetMarket(config: PjmConfig): Market {
  return config.markets.includes('rt') ? 'rt' : 'da';
}

export function modelBaseName(market: Market): string {
  return `xgb_${market}_lmp`;
}

/**
 * The test period: PJM_BACKTEST_START..PJM_BACKTEST_END or the last PJM_BACKTEST_DAYS days
 * when set (clipped to the days with complete features, and said so); else epftoolbox's
 * standard period where the data covers it, else the last fifth of the days (at least 7).
 */
export function testPeriod(
  config: Pick<PjmConfig, 'source' | 'backtest'>,
  firstFeatureDay: string,
  lastFeatureDay: string,
): { testFirstDay: string; testLastDay: string; origin: string } {
  const b = config.backtest;
  const span = `${firstFeatureDay}..${lastFeatureDay}`;
  if (b.start !== null || b.end !== null || b.days !== null) {
    const end = b.end !== null && b.end < lastFeatureDay ? b.end : lastFeatureDay;
    const start = b.start ?? (b.days !== null ? addDays(end, -(b.days - 1)) : null);
    if (start !== null) {
      if (start <= firstFeatureDay) {
        throw new Error(
          `The backtest period ${start}..${end} (PJM_BACKTEST_*) starts on or before the first day with complete features (${firstFeatureDay}); it needs earlier days to train on. Start it later, or give fewer PJM_BACKTEST_DAYS.`,
        );
      }
      if (start > end)
        throw new Error(`The backtest period starts on ${start} (PJM_BACKTEST_START) after the last day with complete features (${lastFeatureDay}).`);
      const vars = [b.start !== null ? 'PJM_BACKTEST_START' : `PJM_BACKTEST_DAYS=${b.days}`, ...(b.end !== null ? ['PJM_BACKTEST_END'] : [])].join(', ');
      const clipped = b.end !== null && b.end > lastFeatureDay ? ` (PJM_BACKTEST_END ${b.end} clipped to the last day with complete features)` : '';
      return { testFirstDay: start, testLastDay: end, origin: `${vars}${clipped}` };
    }
    // Only PJM_BACKTEST_END: the default length, ending there.
    return { ...defaultTestPeriod(config, firstFeatureDay, end), origin: `the last fifth of ${firstFeatureDay}..${end} (PJM_BACKTEST_END)` };
  }
  const d = defaultTestPeriod(config, firstFeatureDay, lastFeatureDay);
  return {
    ...d,
    origin:
      d.testFirstDay === EPFTOOLBOX_TEST_PERIOD.testFirstDay && config.source === 'epftoolbox' ? 'the epftoolbox test period' : `the last fifth of ${span}`,
  };
}

function defaultTestPeriod(config: Pick<PjmConfig, 'source'>, firstFeatureDay: string, lastFeatureDay: string): { testFirstDay: string; testLastDay: string } {
  const { testFirstDay, testLastDay } = EPFTOOLBOX_TEST_PERIOD;
  if (config.source === 'epftoolbox' && firstFeatureDay < testFirstDay && lastFeatureDay >= testFirstDay) {
    return { testFirstDay, testLastDay: lastFeatureDay < testLastDay ? lastFeatureDay : testLastDay };
  }
  const days = dayNumberOf(lastFeatureDay) - dayNumberOf(firstFeatureDay) + 1;
  const testDays = Math.max(7, Math.floor(days / 5));
  if (testDays >= days)
    throw new Error(
      `Only ${days} days of complete features (${firstFeatureDay}..${lastFeatureDay}): too few to hold out a test period. Widen PJM_START..PJM_END.`,
    );
  return { testFirstDay: addDays(lastFeatureDay, -(testDays - 1)), testLastDay: lastFeatureDay };
}

/** Node names for the per-node table: as configured, else the hub's name when it is one of the 12 hubs. */
function nodeNames(config: PjmConfig): Map<number, string> {
  const out = new Map<number, string>();
  for (const n of config.nodes) {
    const name = n.name ?? PJM_HUBS.find((h) => h.id === n.id)?.name;
    if (name) out.set(n.id, name);
  }
  return out;
}

/**
 * The feature set the consumed feature partitions were built with (their metadata), checked:
 * the first and the last partition must agree (all are built from one pjm/feature_set version).
 */
function featureSetOf(input: AssetInput): FeatureSet {
  const first = input.partitions[0];
  const last = input.partitions[input.partitions.length - 1];
  if (!first || !last) throw new Error(`No partition of ${input.asset} is materialized; materialize +${input.asset} first.`);
  const read = (partition: string): FeatureSet => {
    const set = input.metadata(partition).featureSet as unknown as FeatureSet | undefined;
    if (!set || typeof set !== 'object')
      throw new Error(
        `The consumed ${describePartition(input.asset, partition)} version records no feature set in its metadata; rematerialize ${input.asset}.`,
      );
    return normaliseFeatureSet(set);
  };
  const a = read(first.partition);
  const b = read(last.partition);
  if (describeFeatureSet(a) !== describeFeatureSet(b)) {
    throw new Error(
      `${describePartition(input.asset, first.partition)} was built with ${describeFeatureSet(a)} but ${describePartition(input.asset, last.partition)} with ${describeFeatureSet(b)}; materialize ${input.asset} again so every partition uses the current pjm/feature_set.`,
    );
  }
  return a;
}

/**
 * Every consumed feature partition in one Parquet file, ordered by node, day and hour (as the
 * whole-history features were): one scan of the small files, then the model code reads one
 * table. Empty partitions (a node's first week) add nothing.
 */
/** The files of every feature partition the step consumed, after checking they hold a row. */
async function featureFiles(conn: DuckDBConnection, input: AssetInput): Promise<readonly string[]> {
  const paths = await input.paths();
  if (paths.length === 0) throw new Error(`No partition of ${input.asset} is materialized; materialize +${input.asset} first.`);
  // Row counts from the files' footers: no scan.
  const n = await conn.runAndReadAll(`SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata([${paths.map(sqlString).join(', ')}])`);
  if (Number(n.getRows()[0]?.[0] ?? 0) === 0) {
    throw new Error(
      `No complete feature rows in ${paths.length} partitions of ${input.asset}: every day's lags reach before the first day of prices. The validated data must cover at least 8 consecutive days.`,
    );
  }
  return paths;
}

async function onePath(input: AssetInput): Promise<string> {
  const [path] = await input.paths();
  if (!path) throw new Error(`Input ${input.asset} has no file.`);
  return path;
}

export function modelAssets(options: ModelStageOptions): AssetDefinition<unknown>[] {
  const { config } = options;
  const market = targetMarket(config);
  // Given settings, or the default of the feature set the data supports (known when the model runs).
  const settingsFor = (set: FeatureSet): TrainSettings => options.settings ?? defaultSettingsFor(set);
  const settingsHash = createHash('sha256')
    .update(JSON.stringify(options.settings ?? [DEFAULT_SETTINGS, RT_WITH_DA_SETTINGS]))
    .digest('hex')
    .slice(0, 8);
  const membersText = options.settings
    ? options.settings.variants.map((v) => v.name).join(', ')
    : `${DEFAULT_SETTINGS.variants.map((v) => v.name).join(', ')}; an RT model with the DA price: ${RT_WITH_DA_SETTINGS.variants.map((v) => v.name).join(', ')}`;
  // The served family (PJM_MODEL_FAMILIES): XGBoost alone, LEAR (XGBoost where LEAR has no
  // forecast) or their plain mean, with LEAR per node on each of PJM_LEAR_WINDOWS averaged.
  const family = config.model.families;
  const learWindows = config.model.learWindows;
  const servedText =
    family === 'xgboost'
      ? ''
      : ` Served: ${family === 'lear' ? 'LEAR' : 'the plain mean of XGBoost and LEAR'} (LEAR per node and hour on the ${learWindows.join('/')}-day windows, averaged; XGBoost where LEAR has no forecast), the LEAR members in the bundle too.`;

  // Which inputs the validated data has, decided once: every feature partition is built from
  // this one set, so the rows of all node-days fit one model. The markets are the configured
  // ones (a validated node-day holds each of them, or it is blocked); the load inputs are read
  // from the validated load. It reads no price partition, so adding a node leaves it, and
  // every other node's features, untouched; its value is the set alone (the counts are
  // metadata), so a new day that changes nothing about it leaves the features fresh.
  const featureSet = defineAsset({
    key: ASSET_KEYS.featureSet,
    deps: [{ asset: ASSET_KEYS.validatedLoad, as: 'load', mapping: allPartitionsMapping() }],
    group: 'pjm',
    description: `The feature set of the ${market.toUpperCase()} model: the richest set of inputs the validated data has (own price lags${market === 'rt' ? ', the DA price of D' : ''}, load forecasts, metered load of D-1), with the inputs found and those done without, and why.`,
    io: 'json',
    codeVersion: `1:${market}`,
    async materialize(ctx) {
      const conn = await ctx.duckdb();
      const days = ctx.input('load').partitions.length;
      const markets = new Map(
        config.markets.map((m) => [
          m,
          `${m.toUpperCase()} prices of the ${config.nodes.length} configured node(s) and any added to pjm_nodes, ${days} days, each validated per node-day`,
        ]),
      );
      const choice = await detectFeatureSet(conn, { pricesParquet: [], markets, loadParquet: await ctx.input('load').paths(), market });
      ctx.log.info(`feature set ${describeFeatureSet(choice.set)}: ${describeChoice(choice)}`);
      const summary = [
        `Days: ${config.start}..${config.end}, from ${config.spanOrigin}.`,
        `Markets: ${config.markets.join(', ')}, from ${config.marketsOrigin}.`,
        `Load areas: ${config.loadAreas.join(', ')}, from ${config.loadAreasOrigin}.`,
        `Nodes: ${config.nodes.length} configured (${config.nodes
          .slice(0, 6)
          .map((n) => (n.name ? `${n.id} ${n.name}` : String(n.id)))
          .join(', ')}${config.nodes.length > 6 ? ', …' : ''}), from ${config.nodesOrigin}.`,
        `Feature set ${describeFeatureSet(choice.set)}, ${featureColumns(choice.set).length} features.`,
        `Inputs found: ${choice.found.map((f) => `${f.input} (${f.detail})`).join('; ')}.`,
        `Done without: ${choice.without.length === 0 ? 'nothing' : choice.without.map((w) => `${w.input} (${w.reason})`).join('; ')}.`,
      ].join('\n');
      return {
        value: choice.set as unknown as Metadata,
        metadata: {
          summary,
          market,
          featureSet: choice.set as unknown as Metadata,
          inputsFound: choice.found as unknown as Metadata,
          inputsWithout: choice.without as unknown as Metadata,
          span: `${config.start}..${config.end}`,
          spanOrigin: config.spanOrigin,
        },
      };
    },
  });

  // One partition per node and target day: what is known at the end of D-1 for the 24 hours
  // of D. It reads its node's validated prices of D-7..D (the lags reach D-7; D holds the
  // target and, for an RT target, the DA price of D) and the load of D-1..D, so appending a
  // day computes that day's rows, and a revised day those whose window holds it.
  const features = defineAsset({
    key: ASSET_KEYS.features,
    deps: [
      { asset: ASSET_KEYS.validatedPrices, as: 'prices', mapping: trailingWindowMapping(MAX_PRICE_LAG) },
      { asset: ASSET_KEYS.validatedLoad, as: 'load', mapping: dimensionMapping('day', { previous: 1 }) },
      { asset: ASSET_KEYS.featureSet, as: 'feature_set' },
    ],
    group: 'pjm',
    partitions: options.partitions.nodeDays,
    description: `Feature rows of one node for ${market.toUpperCase()} forecasts of day D from what is known at the end of D-1, from the feature set of pjm/feature_set: price profiles of D-1, D-2, D-3 and D-7 of the ${market.toUpperCase()} market, D-1 daily stats, calendar and holidays${market === 'rt' ? ', the DA price of the hour' : ''}, load forecasts, metered load of D-1. Empty for the first week of the data (its lags reach before it). The target is kept apart.`,
    io: 'table',
    codeVersion: `3:${market}`,
    // One batch step at a time: a 92-day batch's query holds 100-150 MiB of DuckDB memory
    // (measured: it fails under a 100 MB limit, passes under 150 MB) for ~2,200 rows, and
    // four at once ran the process's DuckDB out of its 512 MB (DUCKDB_MEMORY_LIMIT) in one
    // default run of four on 2026-12-03, failing 184 node-days. DuckDB's own threads are
    // the cores either way, so one at a time costs little.
    pool: 'duckdb-features',
    // A backfill computes a node's days FEATURE_BATCH_DAYS at a time: one feature query per
    // day cost ~70 ms (mostly its plan and the scan of its inputs), 60 % of the default run.
    batch: {
      maxPartitions: FEATURE_BATCH_DAYS,
      async materialize(ctx) {
        const conn = await ctx.duckdb();
        const set = normaliseFeatureSet(await ctx.input('feature_set').json<FeatureSet>());
        const keys = ctx.members.map((m) => ({ partition: m.partition, ...splitNodeDay(m.partition) }));
        const nodeId = keys[0]!.node;
        const built = await buildNodeDaysFeatures(conn, {
          pricesParquet: await ctx.input('prices').paths(),
          loadParquet: await ctx.input('load').paths(),
          market,
          featureSet: set,
          nodeId,
          days: keys.map((k) => k.day),
          spanStart: config.start,
          outDir: ctx.tempDir,
        });
        return new Map<PartitionKey, BatchOutput>(
          keys.map(({ partition, day }): [PartitionKey, BatchOutput] => {
            const r = built.get(day);
            if (r === undefined) return [partition, { error: new Error(`The feature query returned nothing for node ${nodeId} day ${day}.`) }];
            if (!r.ok) return [partition, { error: r.error }];
            return [partition, { parquetFile: r.path, metadata: { rowCount: r.rows, leftOut: r.leftOut, featureSet: set as unknown as Metadata } }];
          }),
        );
      },
    },
  });

  const model = defineAsset({
    key: ASSET_KEYS.model,
    // The backtest gives the model its calibration (per-hour residual quantiles of the served
    // family's walk-forward) and the MAE no_worse_than_current compares.
    deps: [ASSET_KEYS.features, { asset: ASSET_KEYS.featureSet, as: 'feature_set' }, ASSET_KEYS.backtest],
    group: 'pjm',
    pool: 'xgboost-training',
    description: `XGBoost model of the ${market.toUpperCase()} LMP: an average of global models over nodes and hours (${membersText}), asinh-median price transform per node, time-ordered validation split with early stopping. The file bundles each member's XGBoost JSON (pjm/model_export writes them out for Python); the sidecar in the metadata has features, target, window, parameters, learning curves and importance.${servedText}`,
    io: 'file',
    // The training settings, and for LEAR the served family and its windows, are part of the
    // model's code: changing them makes the model stale (XGBoost alone keeps its old version).
    codeVersion: `2:${market}:${settingsHash}${family === 'xgboost' ? '' : `:${family}:${learWindows.join(',')}`}`,
    checks: [
      {
        name: 'no_worse_than_current',
        description:
          'Blocks a model whose backtest MAE is worse than the current one by more than PJM_MODEL_MAX_WORSE (default 2 %); `materialize --force` or PJM_MODEL_MAX_WORSE=off publishes it anyway, saying so.',
        check(ctx) {
          const m = ctx.output.metadata;
          const verdict = noWorseVerdict({
            candidateMae: Number(m.backtestMae),
            currentMae: typeof m.currentBacktestMae === 'number' ? m.currentBacktestMae : null,
            maxWorse: config.model.maxWorse,
            candidatePeriod: String(m.backtestPeriod),
            currentPeriod: typeof m.currentBacktestPeriod === 'string' ? m.currentBacktestPeriod : null,
            forced: ctx.forced,
          });
          return {
            passed: verdict.passed,
            message: verdict.message,
            metadata: { candidateMae: m.backtestMae ?? null, currentMae: m.currentBacktestMae ?? null, maxWorse: config.model.maxWorse, forced: ctx.forced },
          };
        },
      },
    ],
    async materialize(ctx) {
      const featureSet = featureSetOf(ctx.input('features'));
      const conn = await ctx.duckdb();
      const backtestValue = await ctx.input('backtest').json<{
        learMembers?: unknown;
        report: {
          testFirstDay: string;
          testLastDay: string;
          metrics: { overall: { mae: number } };
          families?: {
            families: string;
            learWindows: readonly number[];
            point: { xgboost: { mae: number } };
            calibration: ConformalCalibration | null;
            xgboostCalibration: ConformalCalibration | null;
          };
        };
      }>();
      const backtestReport = backtestValue.report;
      if (!backtestReport.families) throw new Error('The consumed pjm/backtest version has no family scores or calibration; rematerialize pjm/backtest.');
      const bf = backtestReport.families;
      if (bf.families !== family || (family !== 'xgboost' && bf.learWindows.join(',') !== learWindows.join(','))) {
        throw new Error(
          `The consumed pjm/backtest evaluated PJM_MODEL_FAMILIES=${bf.families} with LEAR windows ${bf.learWindows.join(',')}, not ${family} with ${learWindows.join(',')}; materialize pjm/backtest and pjm/model together.`,
        );
      }
      // The served family's backtest: XGBoost's own MAE and calibration, or (LEAR, ensemble) those
      // of the backtest's forecasts, which are that family's (backtest/families.ts).
      const served = {
        mae: family === 'xgboost' ? bf.point.xgboost.mae : backtestReport.metrics.overall.mae,
        testFirstDay: backtestReport.testFirstDay,
        testLastDay: backtestReport.testLastDay,
      };
      const calibration = family === 'xgboost' ? bf.xgboostCalibration : bf.calibration;
      const { model: trained, files } = await trainModelFromFeatures(conn, {
        featuresParquet: await featureFiles(conn, ctx.input('features')),
        market,
        featureSet,
        settings: settingsFor(featureSet),
        baseName: modelBaseName(market),
        signal: ctx.signal,
      });
      disposeModel(trained);
      let sidecar: ModelSidecar = { ...files.sidecar, servedFamily: 'xgboost', ...(calibration ? { calibration } : {}), backtest: served };
      let bundleFiles = files.files;
      let learFitSeconds = 0;
      if (family !== 'xgboost') {
        // LEAR per node on each window's latest whole stretch of the same feature rows, in the
        // bundle beside the XGBoost members: fitted by pjm/backtest's LEAR worker, beside its
        // retrains (lear/off-thread.ts), so not fitted again here.
        const where = `${ctx.input('backtest').asset} version ${ctx.input('backtest').partitions[0]?.dataVersion ?? '?'}`;
        if (backtestValue.learMembers === undefined)
          throw new Error(`The consumed ${where} holds no LEAR fits for pjm/model; rematerialize pjm/backtest and pjm/model together.`);
        const lear = checkLearArtifact(backtestValue.learMembers, where, 'pjm/backtest');
        if (lear.windows.join(',') !== learWindows.join(','))
          throw new Error(
            `The consumed ${where} fitted LEAR on windows ${lear.windows.join(',')}, not ${learWindows.join(',')}; materialize pjm/backtest and pjm/model together.`,
          );
        learFitSeconds = Number(ctx.input('backtest').metadata().learServedSeconds ?? 0);
        const file = learFileName(modelBaseName(market));
        sidecar = familiesSidecar(sidecar, family, lear, file);
        bundleFiles = [...files.files, { name: file, bytes: encodeLearArtifact(lear) }];
        for (const n of lear.nodes)
          ctx.log.info(
            `LEAR node ${n.nodeId}: ${n.windows.length === 0 ? `no whole ${learWindows.join('/')}-day window (XGBoost serves it alone)` : n.windows.map((w) => `${w.window} days ${w.firstDay}..${w.lastDay}`).join(', ')}`,
          );
      }
      if (!calibration)
        ctx.log.warn(
          `no quantiles: the backtest's test period (${served.testFirstDay}..${served.testLastDay}) gives some hour fewer than 7 residuals; lengthen it (PJM_BACKTEST_DAYS) for calibrated intervals`,
        );
      const path = join(ctx.tempDir, 'model.bundle');
      await writeFile(path, encodeModelBundle(bundleFiles));
      const previous = ctx.previous?.metadata;
      for (const m of files.sidecar.members)
        ctx.log.info(
          `member ${m.variant.name}: ${m.rounds} rounds on ${trained.window.trainRows} rows (${trained.window.firstDay}..${trained.window.lastDay})`,
        );
      return {
        file: path,
        metadata: {
          sidecar: sidecar as unknown as Metadata,
          backtestMae: served.mae,
          backtestPeriod: `${served.testFirstDay}..${served.testLastDay}`,
          currentBacktestMae: typeof previous?.backtestMae === 'number' ? previous.backtestMae : null,
          currentBacktestPeriod: typeof previous?.backtestPeriod === 'string' ? previous.backtestPeriod : null,
          market,
          featureSet: describeFeatureSet(featureSet),
          inputsFound: ctx.input('feature_set').metadata().inputsFound ?? null,
          inputsWithout: ctx.input('feature_set').metadata().inputsWithout ?? null,
          members: files.sidecar.members.map((m) => `${m.variant.name}: ${m.rounds} rounds`),
          trainRows: trained.window.trainRows,
          trainingWindow: `${trained.window.firstDay}..${trained.window.lastDay}`,
          ...(sidecar.families
            ? {
                servedFamily: family,
                weights: sidecar.families.weights,
                learWindows: [...learWindows],
                learNodes: sidecar.families.lear.nodes.length,
                learFitSeconds,
              }
            : {}),
        },
      };
    },
  });

  const backtestAsset = defineAsset({
    key: ASSET_KEYS.backtest,
    deps: [ASSET_KEYS.features, { asset: ASSET_KEYS.featureSet, as: 'feature_set' }],
    group: 'pjm',
    pool: 'xgboost-training',
    description: `Walk-forward backtest (${typeof options.recalibration === 'string' ? options.recalibration : `every ${options.recalibration.everyDays} days`} recalibration, expanding window): MAE, RMSE, sMAPE and rMAE against the naive forecast, overall, by hour and by node${config.source === 'epftoolbox' ? ', beside the published epftoolbox ensembles' : ''}.`,
    io: 'json',
    // The families, LEAR windows and LEAR refit cadence are part of what it computes.
    // 5: with LEAR, the value holds the served LEAR fits pjm/model bundles (learMembers).
    codeVersion: `5:${market}:${settingsHash}:${JSON.stringify(options.recalibration)}:${JSON.stringify(config.backtest)}:${JSON.stringify({ families: config.model.families, learWindows: config.model.learWindows, learEveryDays: config.model.learEveryDays })}`,
    async materialize(ctx) {
      const conn = await ctx.duckdb();
      const featurePaths = await featureFiles(conn, ctx.input('features'));
      const span = await conn.runAndReadAll(
        `SELECT CAST(min(day) AS VARCHAR), CAST(max(day) AS VARCHAR) FROM read_parquet([${featurePaths.map(sqlString).join(', ')}])`,
      );
      const [first, last] = span.getRows()[0] as [string, string];
      const { origin, ...period } = testPeriod(config, first, last);
      ctx.log.info(`test period ${period.testFirstDay}..${period.testLastDay}, from ${origin}`);
      const published = join(DEFAULT_EPFTOOLBOX_DIR, 'Forecasts_PJM_DNN_LEAR_ensembles.csv');
      const featureSet = featureSetOf(ctx.input('features'));
      const outcome = await backtest(conn, {
        featuresParquet: featurePaths,
        market,
        featureSet,
        nodeNames: nodeNames(config),
        ...period,
        recalibration: options.recalibration,
        settings: settingsFor(featureSet),
        publishedForecastsCsv: config.source === 'epftoolbox' ? published : undefined,
        families: config.model,
        // pjm/model serves LEAR's fits on each window's latest days: fitted here, in the worker beside the retrains.
        fitServedLear: config.model.families !== 'xgboost',
        signal: ctx.signal,
        onBlock: (b, done, total) =>
          ctx.log.info(
            `retrain ${done}/${total}: trained on ${b.trainFirstDay}..${b.trainLastDay}, tested ${b.testFirstDay}..${b.testLastDay}, MAE ${b.mae.toFixed(3)}`,
          ),
      });
      const forecasts = outcome.result.forecasts;
      const overall = outcome.report.metrics.overall;
      // The stored value is what the backtest found, so the same features and code give the
      // same data version (and nothing downstream reruns for nothing); how long it took varies
      // from run to run and goes in the metadata.
      const { seconds, blocks, ...findings } = outcome.report;
      const { learSeconds: _learSeconds, ...familyFindings } = outcome.families ?? { learSeconds: 0 };
      const report = { ...findings, blocks: blocks.map(({ trainSeconds: _, ...block }) => block), ...(outcome.families ? { families: familyFindings } : {}) };
      return {
        value: { report, forecasts, ...(outcome.learMembers ? { learMembers: outcome.learMembers.artifact } : {}) } as never,
        metadata: {
          summary: `${outcome.table}\nTest period from ${origin}.`,
          testPeriodOrigin: origin,
          mae: overall.mae,
          rmse: overall.rmse,
          smape: overall.smape,
          rmae: overall.rmae,
          ...(overall.rmaeDa !== undefined ? { rmaeDa: overall.rmaeDa, daBaselineMae: overall.daBaselineMae! } : {}),
          naiveMae: overall.naiveMae,
          byNode: outcome.report.metrics.byNode as never,
          hours: forecasts.length,
          comparison: outcome.report.comparison as never,
          families: (outcome.families ? familyFindings : null) as never,
          learSeconds: outcome.families?.learSeconds ?? null,
          learServedSeconds: outcome.learMembers?.seconds ?? null,
          timing: { seconds, trainSeconds: blocks.map((b) => b.trainSeconds) },
        },
      };
    },
  });

  const forecast = defineAsset({
    key: ASSET_KEYS.forecast,
    deps: [ASSET_KEYS.model, { asset: ASSET_KEYS.validatedPrices, as: 'prices' }, { asset: ASSET_KEYS.validatedLoad, as: 'load' }],
    group: 'pjm',
    description:
      "The latest day-ahead forecast per node: the last day whose inputs (those of the model's feature set) are all known — tomorrow on live data, a day inside the files on a historical export. Columns node_id, ts_utc, ts_ept, day, value and the quantiles p05, p10, p25, p50, p75, p90, p95 (from the model's conformal calibration; NULL when it has none). A node whose inputs have a gap is skipped with a warning naming them.",
    io: 'table',
    codeVersion: '3',
    // A new forecast whenever the validated data or the model changes, without a schedule.
    automation: { kind: 'eager' },
    // On live data the product is tomorrow's forecast, needed before the next market deadline:
    // a forecast made between two 14:30 EPT deadlines (DA prices post around 13:30). A
    // historical export has no deadline to meet.
    ...(config.source === 'dataminer-api' ? { freshness: { at: '14:30', timezone: 'America/New_York' } } : {}),
    async materialize(ctx) {
      const conn = await ctx.duckdb();
      const modelInput = ctx.input('model');
      const sidecar = sidecarOf(modelInput);
      const path = await onePath(modelInput);
      const bundle = decodeModelBundle(await readFile(path), path);
      const trained = loadModel(sidecar, bundle);
      try {
        // With LEAR served, the forecast is the served family's, as /predict's is.
        const served = servableModel(sidecar, trained, (name) => bundle.get(name), `${modelInput.asset} ${modelInput.partitions[0]?.dataVersion ?? ''}`);
        const inputs = { pricesParquet: await ctx.input('prices').paths(), loadParquet: await ctx.input('load').paths(), market, tempDir: ctx.tempDir };
        const outPath = join(ctx.tempDir, 'forecast.parquet');
        // Each node's last day whose inputs are known; a node with a gap there is skipped with one warning line, never failing the run.
        const result = await latestForecast(conn, {
          ...inputs,
          model: trained,
          ...(served.lear ? { served } : {}),
          calibration: sidecar.calibration ?? null,
          outPath,
        });
        if (!sidecar.calibration) ctx.log.warn('no quantiles: the model has no calibration (its backtest was too short); the p05..p95 columns are NULL');
        for (const f of result.failures) ctx.log.warn(`skipped: ${f.message}`);
        const kept =
          options.keepServed === undefined
            ? 0
            : await keepIssued(ctx.records, options.keepServed.legacyDataDir, result.forecasts, ctx.input('prices'), {
                modelVersion: modelInput.partitions[0]!.dataVersion,
                market,
              });
        const days = [...new Set(result.forecasts.map((f) => f.day))].sort();
        const summary =
          result.forecasts.length === 0
            ? `No node could be forecast (${result.failures.length} skipped; see the warnings).`
            : `Forecast ${days.join(', ')} for ${result.forecasts.length} node(s)${result.failures.length > 0 ? `; ${result.failures.length} skipped (inputs missing)` : ''}.`;
        return {
          parquetFile: outPath,
          metadata: {
            summary,
            days: days.join(', '),
            nodes: result.forecasts.length,
            failures: result.failures.map((f) => f.message),
            quantiles: sidecar.calibration
              ? `p05..p95: per-hour conformal residual quantiles of ${sidecar.calibration.firstDay}..${sidecar.calibration.lastDay}`
              : null,
            keptForScoring: kept,
          },
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
    description: `Writes the current model's members to ${options.modelDir}/${modelBaseName(market)}*.json (each XGBoost member loads in Python: xgb.Booster(model_file=...); with LEAR served, ${modelBaseName(market)}.lear.json holds the LEAR members) with the sidecar ${modelBaseName(market)}.sidecar.json (backtest metrics included).`,
    io: 'json',
    codeVersion: '1',
    async materialize(ctx) {
      const modelInput = ctx.input('model');
      const meta = { sidecar: sidecarOf(modelInput) };
      const report = (
        await ctx.input('backtest').json<{
          report: { metrics: { overall: Record<string, number> }; comparison: unknown; testFirstDay: string; testLastDay: string; recalibration: unknown };
        }>()
      ).report;
      const sidecar: ModelSidecar = {
        ...meta.sidecar,
        metrics: {
          ...meta.sidecar.metrics,
          backtest: {
            testFirstDay: report.testFirstDay,
            testLastDay: report.testLastDay,
            recalibration: report.recalibration as never,
            overall: report.metrics.overall,
            comparison: report.comparison as never,
          },
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
      return {
        value: { files: written.map((f) => basename(f)), modelDataVersion: modelInput.partitions[0]!.dataVersion },
        metadata: { dir: options.modelDir },
      };
    },
  });

  return [featureSet, features, model, backtestAsset, forecast, modelExport] as AssetDefinition<unknown>[];
}

/**
 * Keeps the node-days of `forecasts` whose validated prices are not in yet (a forecast of a day
 * already known is not one) in the served-forecast log, for pjm/forecast_score; returns how many
 * were new. On a historical export the forecast day is often inside the data: nothing is kept.
 */
async function keepIssued(
  records: AssetRecords,
  legacyDataDir: string,
  forecasts: readonly DayForecast[],
  prices: AssetInput,
  by: { modelVersion: string; market: Market },
): Promise<number> {
  const known = new Set(prices.partitions.map((p) => p.partition));
  const issued = forecasts.filter((f) => !known.has(`${f.nodeId}|${f.day}`) && !known.has(f.day));
  if (issued.length === 0) return 0;
  await importLegacyServedLog(legacyDataDir, records);
  const issuedAt = Date.now();
  return new ServedForecastLog(records).append(issued.map((f) => servedFromDayForecast(f, { origin: 'forecast_asset', issuedAt, ...by })));
}

/** The sidecar of the consumed model version, from its materialization's metadata. */
function sidecarOf(input: AssetInput): ModelSidecar {
  const sidecar = input.metadata().sidecar as unknown as ModelSidecar | undefined;
  if (sidecar === undefined || !(SIDECAR_FORMATS as readonly string[]).includes(sidecar.format))
    throw new Error(`The consumed ${input.asset} version has no model sidecar in its metadata; rematerialize ${input.asset}.`);
  return sidecar;
}
