// The PJM LMP pipeline: the Definitions the CLI, the server, the UI and the
// CronJob all load, given the runtime's settings (runtime/definitions.ts DefinitionsOptions);
// PJM_* are parsed from the environment they pass in assets/pjm/config.ts only;
// the default runs on the bundled epftoolbox data with no network.
import { defineDefinitions, type Definitions, type DefinitionsOptions } from '../runtime/index.ts';
import { recalibrationFromEnv, type PjmConfig } from './pjm/config.ts';
import { resolvePjmConfig } from './pjm/data-span.ts';
import { dataAssets } from './pjm/data-assets.ts';
import { modelAssets } from './pjm/model-assets.ts';
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
  return defineDefinitions<PjmResources>({
    assets: [
      ...data.assets,
      ...modelAssets({ config, partitions: { nodeDays: data.nodeDays }, modelDir: join(options.dataDir, 'models'), recalibration: recalibrationFromEnv(env) }),
    ],
    resources: { config },
    schedules: PJM_SCHEDULES,
    sensors: pjmSensors(config),
  });
}

export default (options: DefinitionsOptions) => pjmDefinitions(options.env, options);
