// Starts the real server (the server core's startServer with the UI route
// module) over a fresh temporary DATA_DIR, for the UI tests and the benchmark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Instance, type Definitions } from '../../../runtime/index.ts';
import { configWith } from '../../../serving/config.ts';
import { startServer, type RunningServer } from '../../../serving/server.ts';
import type { ServingConfig } from '../../../serving/config.ts';
import { uiApiRoutes } from '../../../serving/ui-api/index.ts';

export interface TestServer<R> {
  readonly url: string;
  readonly instance: Instance<R>;
  readonly dataDir: string;
  readonly server: RunningServer;
  stop(): Promise<void>;
}

export function tempDataDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `ui-${label}-`));
}

/** Opens an Instance on `dataDir` (a new temporary one by default). */
export async function openInstance<R>(defs: Definitions<R>, dataDir: string = tempDataDir('store')): Promise<Instance<R>> {
  return await Instance.open(defs, { dataDir });
}

export async function startUiServer<R>(instance: Instance<R>, overrides: Partial<ServingConfig> = {}): Promise<TestServer<R>> {
  const server = await startServer(instance as Instance<unknown>, configWith({ dataDir: instance.dataDir, ...overrides }), { modules: [uiApiRoutes] });
  return {
    url: server.url,
    instance,
    dataDir: instance.dataDir,
    server,
    async stop() {
      await server.close();
      await instance.close();
      rmSync(instance.dataDir, { recursive: true, force: true });
    },
  };
}
