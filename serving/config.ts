// The server's settings, read once from the environment and `serve` arguments, so every
// other module receives plain values (and tests build them directly). The API token is
// kept out of `describeConfig`, which is what gets logged.
import { isIP } from 'node:net';
import { dataDirSetting, RUN_QUEUE_DEFAULTS, runQueueSettingsFromEnv, SettingError, type RunQueueSettings } from '../runtime/settings.ts';

export interface ServingConfig {
  readonly host: string;
  readonly port: number;
  /** Root of the lineage store and asset files, as for the CLI. */
  readonly dataDir: string;
  /** Bearer token required by /predict and every mutating route; undefined = auth off. */
  readonly apiToken: string | undefined;
  /** Largest accepted request body in bytes (413 beyond). */
  readonly bodyLimitBytes: number;
  /** A request still running after this long gets a 503 `request_timeout`. */
  readonly requestTimeoutMs: number;
  /** How often the store is asked for a new current model and new validated data. */
  readonly pollIntervalMs: number;
  /** On SIGTERM, how long in-flight requests may take before the process exits anyway. */
  readonly drainTimeoutMs: number;
  /** Origins allowed by CORS; empty = CORS off (no CORS headers at all). */
  readonly corsOrigins: readonly string[];
  readonly logLevel: LogLevel;
  /** Most (node, market, day) feature rows (~25 KB each) and answers (~3.5 KB each) kept in memory. */
  readonly featureCacheSize: number;
  /** After start, the longest the server warms its request path with internal requests before /ready says ready (it usually ends sooner, when they are all answered); 0 = no warm-up. */
  readonly warmupMs: number;
  /** The run queue's limits for the runs this server starts (RUN_QUEUE_MAX_CONCURRENT, RUN_QUEUE_POOL_LIMITS). */
  readonly runQueue: RunQueueSettings;
}

/** pino's levels; `silent` logs nothing. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 8000,
  bodyLimitBytes: 1024 * 1024,
  requestTimeoutMs: 30_000,
  pollIntervalMs: 1_500,
  drainTimeoutMs: 25_000,
  logLevel: 'info' as LogLevel,
  featureCacheSize: 2_000,
  warmupMs: 20_000,
} as const;

// Timers fire at once beyond 2^31 - 1 ms (Node clamps them to 1 ms), so no duration may exceed it.
const MAX_MS = 2 ** 31 - 1;

function intFrom(name: string, raw: string | undefined, fallback: number, min: number, max = MAX_MS): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.trim());
  const accepted = `a whole number from ${min} to ${max} (default ${fallback})`;
  if (!/^[+]?\d+$/.test(raw.trim()) && !/^-\d+$/.test(raw.trim())) throw new SettingError(name, raw, accepted, { problem: 'is not a whole number' });
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new SettingError(name, raw, accepted, { problem: 'is out of range' });
  return n;
}

const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** HOST: an IPv4 or IPv6 address, or a host name (letters, digits, hyphens, dots; not all-numeric like 999.1.1.1). */
function hostFrom(name: string, raw: string): string {
  const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0) return host;
  const labels = host.split('.');
  const hostname = host.length > 0 && host.length <= 253 && labels.every((l) => HOST_LABEL.test(l)) && !/^\d+$/.test(labels.at(-1) ?? '');
  if (!hostname) throw new SettingError(name, raw, 'an IP address (0.0.0.0, 127.0.0.1, ::) or a host name such as localhost');
  return host;
}

function logLevelFrom(raw: string | undefined): LogLevel {
  const v = raw?.trim().toLowerCase();
  if (v === undefined || v === '') return DEFAULTS.logLevel;
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new SettingError('LOG_LEVEL', raw ?? '', `one of ${LOG_LEVELS.join(', ')}`);
}

/** Settings from `serve` arguments (`--port N`, `--host H`, `--data-dir D`) and the environment. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServingConfig {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`Unknown argument ${JSON.stringify(a)} to serve; use --port N, --host H, --data-dir DIR.`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`serve --${m[1]} needs a value.`);
    args.set(m[1]!, value);
  }
  for (const k of args.keys()) {
    if (!['port', 'host', 'data-dir'].includes(k)) throw new Error(`Unknown option --${k} to serve; use --port N, --host H, --data-dir DIR.`);
  }
  const token = env.SERVING_API_TOKEN?.trim();
  return {
    host: args.has('host') ? hostFrom('--host', args.get('host')!) : env.HOST?.trim() ? hostFrom('HOST', env.HOST) : DEFAULTS.host,
    port: args.has('port') ? intFrom('--port', args.get('port'), DEFAULTS.port, 0, 65_535) : intFrom('PORT', env.PORT, DEFAULTS.port, 0, 65_535),
    dataDir: dataDirSetting(env, args.get('data-dir')).dataDir,
    apiToken: token ? token : undefined,
    bodyLimitBytes: intFrom('SERVING_BODY_LIMIT_BYTES', env.SERVING_BODY_LIMIT_BYTES, DEFAULTS.bodyLimitBytes, 1),
    requestTimeoutMs: intFrom('SERVING_REQUEST_TIMEOUT_MS', env.SERVING_REQUEST_TIMEOUT_MS, DEFAULTS.requestTimeoutMs, 1),
    pollIntervalMs: intFrom('SERVING_POLL_INTERVAL_MS', env.SERVING_POLL_INTERVAL_MS, DEFAULTS.pollIntervalMs, 50),
    drainTimeoutMs: intFrom('SERVING_DRAIN_TIMEOUT_MS', env.SERVING_DRAIN_TIMEOUT_MS, DEFAULTS.drainTimeoutMs, 0),
    corsOrigins: (env.SERVING_CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    logLevel: logLevelFrom(env.LOG_LEVEL),
    featureCacheSize: intFrom('SERVING_FEATURE_CACHE_SIZE', env.SERVING_FEATURE_CACHE_SIZE, DEFAULTS.featureCacheSize, 1),
    warmupMs: intFrom('SERVING_WARMUP_MS', env.SERVING_WARMUP_MS, DEFAULTS.warmupMs, 0),
    runQueue: runQueueSettingsFromEnv(env),
  };
}

/** Config as it may be logged: the token is reduced to whether one is set. */
export function describeConfig(c: ServingConfig): Record<string, unknown> {
  const { apiToken, ...rest } = c;
  return { ...rest, auth: apiToken ? 'bearer token required for /predict and mutating routes' : 'off' };
}

/** A complete config for tests and embedding: defaults plus overrides (no warm-up unless asked). */
export function configWith(overrides: Partial<ServingConfig> & { dataDir: string }): ServingConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    apiToken: undefined,
    bodyLimitBytes: DEFAULTS.bodyLimitBytes,
    requestTimeoutMs: DEFAULTS.requestTimeoutMs,
    pollIntervalMs: DEFAULTS.pollIntervalMs,
    drainTimeoutMs: DEFAULTS.drainTimeoutMs,
    corsOrigins: [],
    logLevel: 'silent',
    featureCacheSize: DEFAULTS.featureCacheSize,
    warmupMs: 0,
    runQueue: RUN_QUEUE_DEFAULTS,
    ...overrides,
  };
}
