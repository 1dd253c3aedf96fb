// `node bin/materialize.js serve` / `npm run serve`: opens the store under DATA_DIR with the
// project's asset definitions, serves on HOST:PORT, and on SIGTERM or SIGINT drains in-flight
// requests before exiting 0 (what Kubernetes expects of a pod being replaced).
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { loadDefinitions } from '../runtime/cli/load-definitions.ts';
import { configureDuckdb } from '../runtime/duckdb.ts';
import { Instance, errorMessage, type Definitions } from '../runtime/index.ts';
import { isSettingError, loadRuntimeSettings, prepareDataDir, SettingError, type RuntimeSettings } from '../runtime/settings.ts';
import { configureXGBoost } from '../lib/xgboost/config.ts';
import { describeConfig, loadConfig, type ServingConfig } from './config.ts';
import { createLogger, flushLogs, startServer } from './server.ts';

/** A host name must resolve before the server tries to listen on it (an unresolvable HOST was an uncaught error). */
async function checkHostResolves(config: ServingConfig, argv: readonly string[]): Promise<void> {
  if (isIP(config.host) !== 0) return;
  try {
    await lookup(config.host);
  } catch (err) {
    const name = argv.some((a) => a === '--host' || a.startsWith('--host=')) ? '--host' : 'HOST';
    throw new SettingError(name, config.host, 'an IP address or a host name this machine resolves', {
      problem: `does not resolve (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`,
    });
  }
}

/**
 * Every setting the server depends on (its own, the runtime's, the pipeline's), checked before
 * anything starts. Throws a SettingError (or a plain Error for a bad `serve` argument).
 */
async function checkedSettings(argv: readonly string[]): Promise<{ config: ServingConfig; settings: RuntimeSettings }> {
  const config = loadConfig(argv);
  const dataDirFlag = argv.some((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  const settings = loadRuntimeSettings(process.env, { dataDir: dataDirFlag ? config.dataDir : undefined });
  prepareDataDir(settings);
  configureDuckdb(settings.duckdb);
  // Before the definitions and the model load XGBoost: its OpenMP reads the policy only then.
  configureXGBoost({ ompWaitPolicy: settings.ompWaitPolicy });
  await checkHostResolves(config, argv);
  return { config, settings };
}

export async function main(argv: string[]): Promise<void> {
  let config: ServingConfig;
  let settings: RuntimeSettings;
  let definitions: Definitions<unknown>;
  let phase: 'settings' | 'definitions' = 'settings';
  try {
    ({ config, settings } = await checkedSettings(argv));
    phase = 'definitions';
    // Definitions may place files relative to the data root (exports): the same one as the store's.
    definitions = await loadDefinitions(settings.definitions, { dataDir: settings.dataDir, env: process.env });
  } catch (err) {
    // A bad setting (PJM_* included, read by the definitions) is a usage error: one line, exit 2.
    // Anything else is a definitions module that does not load: exit 1, as a failed run.
    const setting = phase === 'settings' || isSettingError(err);
    process.stderr.write(`serve: ${setting ? '' : 'cannot load the asset definitions: '}${errorMessage(err)}\n`);
    process.exitCode = setting ? 2 : 1;
    return;
  }
  const log = createLogger(config.logLevel);
  let instance: Instance<unknown>;
  try {
    instance = await Instance.open(definitions, { settings });
  } catch (err) {
    log.fatal({ err: errorMessage(err) }, 'cannot open the asset instance');
    flushLogs();
    process.exitCode = 1;
    return;
  }
  log.info({ config: describeConfig(config) }, 'starting');
  const running = await startServer(instance, config, { log });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining in-flight requests before exit');
    const drained = await running.close();
    await instance.close();
    log.info({ drained }, 'stopped');
    flushLogs();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
