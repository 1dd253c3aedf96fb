// Public surface of the model step: train the production model on every complete feature row
// (time-ordered validation split, early stopping, refit), save it as XGBoost JSON plus a
// sidecar, load it back, predict.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { FeatureSet, Market } from '../features/columns.ts';
import type { JsonValue } from '../../../runtime/definitions.ts';
import { dayNumberOf } from '../../../lib/days.ts';
import { readFeatureTable } from './dataset.ts';
import { modelFiles, type ModelFiles } from './persist.ts';
import { DEFAULT_SETTINGS, type TrainSettings } from './settings.ts';
import { trainModel, type TrainedModel } from './train.ts';

export { readFeatureTable, featureTableFromRows, nodeRows, type FeatureTable } from './dataset.ts';
export { trainModel, predictRows, disposeModel, designMatrix, type TrainedModel, type TrainedMember } from './train.ts';
export { modelFiles, loadModel, sidecarFeatureSet, type ModelFiles, type ModelSidecar, type SidecarMember } from './persist.ts';
export {
  DEFAULT_SETTINGS,
  BENCH_SETTINGS,
  DEFAULT_PARAMS,
  RT_WITH_DA_SETTINGS,
  defaultSettingsFor,
  type TrainSettings,
  type VariantSpec,
  type TargetKind,
} from './settings.ts';
export type { PriceTransform, NodeScale } from './transform.ts';

export interface TrainFromFeaturesOptions {
  /** Features Parquet written by `buildFeatures`. */
  /** One features file, or every partition's. */
  readonly featuresParquet: string | readonly string[];
  readonly market: Market;
  /** The set the file was built with (default: the market's legacy set). */
  readonly featureSet?: FeatureSet;
  /** Default `DEFAULT_SETTINGS`. */
  readonly settings?: TrainSettings;
  /** First and last training day (YYYY-MM-DD); default every day in the file. */
  readonly firstDay?: string;
  readonly lastDay?: string;
  /** File name stem of the member models; default `xgb_${market}_lmp`. */
  readonly baseName?: string;
  /** Extra facts for the sidecar's `metrics` (e.g. the backtest's overall scores, data versions). */
  readonly metrics?: { readonly [key: string]: JsonValue };
  readonly signal?: AbortSignal;
}

/**
 * Trains the model on the feature file and returns it with its files (member JSON bytes and
 * sidecar). The caller owns `model` and must `disposeModel` it (or keep it for serving).
 */
export async function trainModelFromFeatures(
  conn: DuckDBConnection,
  options: TrainFromFeaturesOptions,
): Promise<{ readonly model: TrainedModel; readonly files: ModelFiles }> {
  const table = await readFeatureTable(conn, options.featuresParquet, options.featureSet ?? options.market);
  if (table.rows === 0)
    throw new Error(
      `trainModelFromFeatures: ${typeof options.featuresParquet === 'string' ? options.featuresParquet : `${options.featuresParquet.length} feature files`} have no complete ${options.market} feature rows; materialize the features first.`,
    );
  const firstDay = options.firstDay !== undefined ? dayNumberOf(options.firstDay) : table.dayNumber[0]!;
  const lastDay = options.lastDay !== undefined ? dayNumberOf(options.lastDay) : table.dayNumber[table.rows - 1]!;
  const model = await trainModel(table, { firstDay, lastDay }, options.settings ?? DEFAULT_SETTINGS, { signal: options.signal });
  const files = modelFiles(model, options.baseName ?? `xgb_${options.market}_lmp`, options.metrics ?? {});
  return { model, files };
}
