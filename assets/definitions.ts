// The PJM LMP pipeline: the Definitions the CLI, the server, the UI and the
// CronJob all load, given the runtime's settings (runtime/definitions.ts DefinitionsOptions);
// PJM_* are parsed from the environment they pass in assets/pjm/config.ts only;
// the default runs on the bundled epftoolbox data with no network.
import { defineDefinitions, dimensionMapping, type Definitions, type DefinitionsOptions } from '../runtime/index.ts';
import { recalibrationFromEnv, type PjmConfig } from './pjm/config.ts';
import { resolvePjmConfig } from './pjm/data-span.ts';
import { dataAssets } from './pjm/data-assets.ts';
import { modelAssets, targetMarket } from './pjm/model-assets.ts';
import { ASSET_KEYS } from './pjm/data-assets.ts';
import { forecastScoreAsset } from './pjm/served/score-asset.ts';
import { join } from 'node:path';
import { rawSourceFor } from './pjm/raw-source.ts';
import { PJM_SCHEDULES } from './pjm/schedules.ts';
import { pjmSensors } from './pjm/sensors.ts';

export interface PjmResources {
  readonly config: PjmConfig;
}

/** The pipeline on `env`'s PJM_* settings (assets/pjm/config.ts), exporting models under `options.dataDir`. */
export async function pjmDefinitions(env: DefinitionsOptions['env'], options: Pick<DefinitionsOptions, 'dataDir'>): Promise<Definitions<PjmResources>> {
  const config = await resolvePjmConfig(env);
  const source = rawSourceFor(config);
  const data = dataAssets(config, source, await source.fingerprint(), await source.loadFeed());
  // What the product issued (pjm/forecast and the server's /predict) is kept in the lineage store's
  // asset records and scored by pjm/forecast_score; a log an earlier version kept under DATA_DIR is imported first.
  const keepServed = { legacyDataDir: options.dataDir };
  return defineDefinitions<PjmResources>({
    assets: [
      ...data.assets,
      ...modelAssets({
        config,
        partitions: { nodeDays: data.nodeDays },
        modelDir: join(options.dataDir, 'models'),
        recalibration: recalibrationFromEnv(env),
        keepServed,
      }),
      forecastScoreAsset({
        days: data.days,
        features: { asset: ASSET_KEYS.features, mapping: dimensionMapping('day') },
        market: targetMarket(config),
        legacyDataDir: keepServed.legacyDataDir,
      }),
    ],
    resources: { config },
    schedules: PJM_SCHEDULES,
    sensors: pjmSensors(config, data.rawNodeDays.dimension('day')!.definition),
  });
}

export default (options: DefinitionsOptions) => pjmDefinitions(options.env, options);
