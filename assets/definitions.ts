// The PJM LMP pipeline: the Definitions the CLI, the server, the UI and the
// CronJob all load. Configuration comes from the environment (assets/pjm/config.ts);
// the default runs on the bundled epftoolbox data with no network.
import { defineDefinitions, type Definitions } from '../runtime/index.ts';
import type { PjmConfig } from './pjm/config.ts';
import { resolvePjmConfig } from './pjm/data-span.ts';
import { dataAssets } from './pjm/data-assets.ts';
import { modelAssets, recalibrationFromEnv } from './pjm/model-assets.ts';
import { join, resolve } from 'node:path';
import { rawSourceFor } from './pjm/raw-source.ts';
import { PJM_SCHEDULES } from './pjm/schedules.ts';
import { pjmSensors } from './pjm/sensors.ts';

export interface PjmResources {
  readonly config: PjmConfig;
}

export async function pjmDefinitions(env: Readonly<Record<string, string | undefined>> = process.env): Promise<Definitions<PjmResources>> {
  const config = await resolvePjmConfig(env);
  const source = rawSourceFor(config);
  const data = dataAssets(config, source, await source.fingerprint(), await source.loadFeed());
  return defineDefinitions<PjmResources>({
    assets: [
      ...data.assets,
      ...modelAssets({ config, partitions: { nodeDays: data.nodeDays }, modelDir: join(resolve(env.DATA_DIR ?? 'data'), 'models'), recalibration: recalibrationFromEnv(env) }),
    ],
    resources: { config },
    schedules: PJM_SCHEDULES,
    sensors: pjmSensors(config),
  });
}

export default () => pjmDefinitions();
