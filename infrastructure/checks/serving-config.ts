// Asks the server's own configuration loader (serving/config.ts) what a given environment
// means, so the manifests are checked against the server as written rather than against a
// copy of its variable names and defaults. Loaded at run time: serving/ is another module's.
import { fileURLToPath } from 'node:url';

const CONFIG_MODULE = fileURLToPath(new URL('../../serving/config.ts', import.meta.url));

/** How long the server drains in-flight requests after SIGTERM with this environment, in ms. */
export async function serverDrainMs(env: Readonly<Record<string, string>>): Promise<number> {
  let module: { loadConfig?: unknown };
  try {
    module = (await import(CONFIG_MODULE)) as { loadConfig?: unknown };
  } catch (error) {
    throw new Error(`Cannot load ${CONFIG_MODULE} to learn the server's drain time: ${(error as Error).message}`);
  }
  if (typeof module.loadConfig !== 'function') {
    throw new Error(`${CONFIG_MODULE} no longer exports loadConfig(argv, env); update infrastructure/checks/serving-config.ts.`);
  }
  const config = (module.loadConfig as (argv: string[], env: NodeJS.ProcessEnv) => Record<string, unknown>)([], { ...env });
  const drain = config.drainTimeoutMs;
  if (typeof drain !== 'number') {
    throw new Error(`loadConfig() of ${CONFIG_MODULE} returns no numeric drainTimeoutMs; update infrastructure/checks/serving-config.ts.`);
  }
  return drain;
}
