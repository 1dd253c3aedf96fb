// Runs the app: builds the dependencies over a runtime Instance, starts the model registry
// and the data catalog, listens, and on `close()` drains: stops accepting connections,
// lets in-flight requests finish (up to the drain timeout), then releases everything.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { devNull } from 'node:os';
import pino, { type Logger } from 'pino';
import { errorMessage, type Instance } from '../runtime/index.ts';
import { createApp, ROUTE_MODULES } from './app.ts';
import { startWarmUp } from './warmup.ts';
import type { ServingConfig } from './config.ts';
import { FeatureService } from './data/feature-service.ts';
import { ForecastScores } from './data/forecast-scores.ts';
import { bearerAuth, type AuthOptions } from './http/middleware/auth.ts';
import { answerClientError } from './http/client-error.ts';
import { ServingMetrics } from './metrics.ts';
import { ModelRegistry } from './model/registry.ts';
import { PredictService } from './predict/service.ts';
import { ServedForecastRecorder } from './predict/served-recorder.ts';
import { importLegacyServedLog } from '../assets/pjm/forecasting.ts';
import { PredictLane } from './http/predict-lane.ts';
import { BatchedDestination } from './log-destination.ts';
import type { RequestSinks, RouteModule, ServerDeps } from './routes.ts';

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  readonly deps: ServerDeps;
  /** Graceful stop: refuse new connections, finish in-flight requests, release resources. Resolves true when everything drained in time. */
  close(): Promise<boolean>;
}

/**
 * A JSON logger that never prints a token or key, whatever a caller passes it. By default it
 * writes to stdout in batches (serving/log-destination.ts: one write per ~45 access lines
 * instead of one per line); call `flushLogs` before exiting.
 */
export function createLogger(level: string, destination: pino.DestinationStream = stdoutDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'pjm-serving' },
      // A safety net: the server never logs headers, bodies or its config's token in the first place.
      redact: { paths: ['authorization', 'headers.authorization', 'apiToken', 'config.apiToken'], censor: '[redacted]' },
      // Epoch milliseconds (pino's default): an ISO string per line cost ~3% of a cached /predict.
    },
    destination,
  );
}

let stdout: BatchedDestination | undefined;

function stdoutDestination(): pino.DestinationStream {
  if (!stdout) {
    const destination = (stdout = new BatchedDestination(pino.destination({ dest: 1, sync: false, minLength: 4096 })));
    // A quiet server must not sit on its last lines: push them out at least every 250 ms.
    setInterval(() => {
      if (!destination.destroyed) destination.flush();
    }, 250).unref();
  }
  return stdout;
}

/** Writes out buffered log lines (before process.exit). */
export function flushLogs(): void {
  try {
    stdout?.flushSync();
  } catch {
    // Nothing to flush, or stdout is gone: nothing more can be done.
  }
}

export function buildDeps(instance: Instance<unknown>, config: ServingConfig, log: Logger, authOptions: AuthOptions = {}): ServerDeps {
  const metrics = new ServingMetrics();
  // A store that cannot be read leaves the freshness gauges out of that scrape, not the whole of /metrics.
  metrics.setFreshnessSource(() =>
    instance.freshness(new Date()).catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'could not read the freshness of the assets for /metrics');
      return [];
    }),
  );
  const models = new ModelRegistry({
    store: instance.store,
    storage: instance.storage,
    log: log.child({ component: 'models' }),
    metrics,
    pollIntervalMs: config.pollIntervalMs,
  });
  const features = new FeatureService({
    instance,
    log: log.child({ component: 'features' }),
    metrics,
    pollIntervalMs: config.pollIntervalMs,
    cacheSize: config.featureCacheSize,
  });
  const auth = bearerAuth(config.apiToken, authOptions);
  const served = new ServedForecastRecorder(instance.store, log.child({ component: 'served-forecasts' }));
  const predictions = new PredictService(models, features, metrics, config.featureCacheSize, served);
  const warmUpSinks = throwawaySinks(config.logLevel);
  const predictLane = new PredictLane({
    predictions,
    auth,
    sinks: { log, metrics },
    warmUpSinks,
    corsOrigins: config.corsOrigins,
    capacity: config.featureCacheSize,
  });
  const scores = new ForecastScores(instance);
  // Likewise a store that cannot be read leaves the score gauges out of that scrape.
  metrics.setScoreSource(() =>
    scores.view().then(
      (v) => v.rolling,
      (err: unknown) => {
        log.warn({ err: errorMessage(err) }, 'could not read the forecast scores for /metrics');
        return [];
      },
    ),
  );
  return { instance, models, features, auth, log, config, metrics, predictions, predictLane, scores, warmUpSinks };
}

/**
 * The warm-up's access log and metrics (ServerDeps.warmUpSinks): the same logger settings and
 * the same buffered destination as the real log, writing to the null device, and a registry
 * of the same metrics without the process collectors.
 */
function throwawaySinks(level: string): RequestSinks {
  // One per process, as stdout's: the null device needs no flushing or closing.
  nullDestination ??= new BatchedDestination(pino.destination({ dest: devNull, sync: false, minLength: 4096 }));
  return { log: createLogger(level, nullDestination), metrics: new ServingMetrics({ defaultMetrics: false }) };
}

let nullDestination: BatchedDestination | undefined;

export interface StartOptions extends AuthOptions {
  readonly log?: Logger;
  readonly modules?: readonly RouteModule[];
}

export async function startServer(instance: Instance<unknown>, config: ServingConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const deps = buildDeps(instance, config, log, options);
  // A served-forecast file an earlier version kept under DATA_DIR goes into the store's log first.
  const legacy = await importLegacyServedLog(instance.dataDir, instance.store);
  if (legacy) log.info({ legacy }, `imported the served-forecast log of an earlier version into the lineage store; the file is now ${legacy.renamedTo}`);
  await deps.features.start();
  await deps.models.start();
  const modules = options.modules ?? ROUTE_MODULES;
  const { app, lifecycle } = createApp(deps, modules);
  const server = createServer(lifecycle.track(deps.predictLane.wrap(app.callback(), lifecycle)));
  // A request Node's parser refuses (an unknown method token, a malformed header) never
  // reaches Koa; answer it with a JSON error too instead of Node's bare 400.
  server.on('clientError', answerClientError);
  // Keep-alive a little longer than typical load balancers (60 s) so they close first.
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = Math.max(config.requestTimeoutMs + 5_000, 10_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  // Warm the request path before /ready says ready (serving/warmup.ts).
  let warmUp: ReturnType<typeof startWarmUp> | undefined;
  if (config.warmupMs > 0) {
    lifecycle.warming = true;
    warmUp = startWarmUp(loopbackUrl(address), lifecycle.warmupSecret, deps, { maxMs: config.warmupMs });
    warmUp.done
      .then(
        (result) => log.info({ warmUp: result }, result.skipped ? 'warm-up skipped' : 'warmed up'),
        (err: unknown) => log.warn({ err }, 'warm-up failed; serving anyway'),
      )
      .finally(() => (lifecycle.warming = false));
  }
  let closing: Promise<boolean> | undefined;
  const close = (): Promise<boolean> =>
    (closing ??= (async () => {
      lifecycle.draining = true;
      warmUp?.stop();
      await warmUp?.done.catch(() => undefined);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = await lifecycle.whenIdle(config.drainTimeoutMs);
      if (!drained) log.warn({ inflight: lifecycle.inflight }, 'drain timeout: closing connections with requests still in flight');
      server.closeAllConnections();
      await closed;
      // Background work of the route modules (runs started from the UI are canceled and end
      // recorded as such, rather than dying with the process and being found abandoned later).
      for (const module of modules) {
        try {
          await module.close?.(deps);
        } catch (err) {
          log.error({ module: module.name, err }, 'a route module failed to close');
        }
      }
      deps.models.stop();
      await deps.predictions.close();
      await deps.features.stop();
      return drained;
    })());
  log.info({ url }, 'serving');
  if (!deps.auth.enabled) {
    log.warn(
      { url, auth: 'off' },
      'SERVING_API_TOKEN is not set: routes that change state (POST /api/materialize, POST /api/runs/{id}/cancel) answer only callers on this machine (loopback); set SERVING_API_TOKEN to allow them, with the token, from other hosts',
    );
  }
  return { url, server, deps, close };
}

/** The server's own address as its warm-up reaches it (a wildcard bind answers on 127.0.0.1). */
function loopbackUrl(address: AddressInfo): string {
  if (address.address === '0.0.0.0' || address.address === '::') return `http://127.0.0.1:${address.port}`;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
