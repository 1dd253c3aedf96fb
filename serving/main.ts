// `node bin/materialize.js serve` / `npm run serve`: opens the store under DATA_DIR with the
// project's asset definitions, serves on HOST:PORT, and on SIGTERM or SIGINT drains in-flight
// requests before exiting 0 (what Kubernetes expects of a pod being replaced).
import { loadDefinitions } from '../runtime/cli/load-definitions.ts';
import { Instance, errorMessage } from '../runtime/index.ts';
import { describeConfig, loadConfig } from './config.ts';
import { createLogger, flushLogs, startServer } from './server.ts';

export async function main(argv: string[]): Promise<void> {
  let config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    process.stderr.write(`serve: ${errorMessage(err)}\n`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger(config.logLevel);
  let instance: Instance<unknown>;
  try {
    instance = Instance.open(await loadDefinitions(), { dataDir: config.dataDir });
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
    instance.close();
    log.info({ drained }, 'stopped');
    flushLogs();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
