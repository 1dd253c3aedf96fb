// The runtime's process-level settings (DATA_DIR, LINEAGE_STORE, ASSET_DEFINITIONS, DUCKDB_*,
// STORAGE and S3_*, OMP_WAIT_POLICY), read and checked once, at start, by the CLI and the
// server, before any work: a bad value is one SettingError naming the variable (or flag), the
// value and what it accepts, never a "Failed to set config" from DuckDB in every step later.
// Other modules receive the validated values (duckdb.ts through configureDuckdb, the instance
// through Instance.open's `settings`, XGBoost through configureXGBoost) rather than reading
// the environment.
import { accessSync, constants, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { OmpWaitPolicy } from '../lib/xgboost/config.ts';
import { RuntimeError } from './errors.ts';
import { storeTargetFromEnv, type LineageStoreTarget } from './store/open-store.ts';
import { storageSettingsFromEnv, type StorageSettings } from './storage/from-env.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A setting has a value the process cannot use: names the variable or flag, the value and what
 * it accepts. Start-up code turns it into exit code 2 (a configuration error, not a failed run).
 */
export class SettingError extends RuntimeError {
  override readonly name: string = 'SettingError';
  constructor(
    /** The environment variable or command-line flag, as the user wrote it (`DUCKDB_THREADS`, `--limit`). */
    readonly variable: string,
    readonly value: string,
    /** What the setting accepts, as a phrase: "a whole number from 1 to 256". */
    readonly accepted: string,
    options: { readonly redact?: boolean; readonly problem?: string } = {},
  ) {
    super(
      'invalid-setting',
      `${variable}=${JSON.stringify(options.redact ? '<redacted>' : value)} ${options.problem ?? 'is not valid'}: expected ${accepted}.`,
    );
  }
}

/** True for an error of the configuration (a bad setting or storage configuration), which exits 2. */
export function isSettingError(err: unknown): err is RuntimeError {
  return err instanceof RuntimeError && (err.reason === 'invalid-setting' || err.reason === 'storage' || err.reason === 'store-config');
}

export interface DuckDbSettings {
  /** Worker threads of the process's one DuckDB instance. */
  readonly threads: number;
  /** DuckDB's memory cap, in DuckDB's syntax (`512MB`, `1.5GiB`). */
  readonly memoryLimit: string;
  /** Idle connections kept for reuse by steps. */
  readonly poolSize: number;
}

export const DUCKDB_DEFAULTS: DuckDbSettings = { threads: 2, memoryLimit: '512MB', poolSize: 8 };

export interface RuntimeSettings {
  /** Absolute root of the lineage store, local asset files and exported models. */
  readonly dataDir: string;
  /** Where dataDir came from, to name it in errors: the flag, the variable, or the default. */
  readonly dataDirFrom: '--data-dir' | 'DATA_DIR' | 'default';
  readonly duckdb: DuckDbSettings;
  readonly storage: StorageSettings;
  /** The lineage store: LINEAGE_STORE when set, else the SQLite file under dataDir. */
  readonly store: LineageStoreTarget;
  /** The definitions module named by --definitions or ASSET_DEFINITIONS; undefined: the project's own (runtime/cli/load-definitions.ts). */
  readonly definitions: string | undefined;
  /**
   * OMP_WAIT_POLICY: whether idle OpenMP threads of native libraries (XGBoost's) sleep
   * (`passive`, the default: the cores are shared) or spin. Entry points hand it to
   * configureXGBoost before anything loads the library, since OpenMP reads it only then.
   */
  readonly ompWaitPolicy: OmpWaitPolicy;
}

function raw(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** A whole number within [min, max]; `name` is the variable or flag named in the error. */
export function wholeNumber(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value.trim());
  if (!/^[+]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new SettingError(name, value, `a whole number from ${min} to ${max}`);
  }
  return n;
}

const UNITS: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
// DuckDB itself needs a few MiB for its catalog and first buffers: "1MB" fails every query with
// "Out of Memory Error". 16 MiB is far below anything useful, so it only catches typos.
const MIN_MEMORY_BYTES = 16 * 2 ** 20;

/** DUCKDB_MEMORY_LIMIT: a size with a unit, as DuckDB's memory_limit takes it. */
export function memoryLimit(name: string, value: string | undefined, fallback: string): string {
  if (value === undefined || value.trim() === '') return fallback;
  const accepted = 'a size with a unit, such as 512MB, 2GB or 1.5GiB (KB, MB, GB, TB, KiB, MiB, GiB, TiB), at least 16MiB';
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(value.trim());
  const factor = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) throw new SettingError(name, value, accepted);
  if (Number(m[1]) * factor < MIN_MEMORY_BYTES) throw new SettingError(name, value, accepted, { problem: 'is too small' });
  return `${m[1]}${m[2]}`;
}

export function duckdbSettingsFromEnv(env: Env): DuckDbSettings {
  return {
    threads: wholeNumber('DUCKDB_THREADS', raw(env, 'DUCKDB_THREADS'), DUCKDB_DEFAULTS.threads, 1, 256),
    memoryLimit: memoryLimit('DUCKDB_MEMORY_LIMIT', raw(env, 'DUCKDB_MEMORY_LIMIT'), DUCKDB_DEFAULTS.memoryLimit),
    poolSize: wholeNumber('DUCKDB_POOL_SIZE', raw(env, 'DUCKDB_POOL_SIZE'), DUCKDB_DEFAULTS.poolSize, 0, 256),
  };
}

/** The data root: the `--data-dir` flag when given, else DATA_DIR, else ./data; absolute. */
export function dataDirSetting(env: Env, flag?: string): Pick<RuntimeSettings, 'dataDir' | 'dataDirFrom'> {
  const given = flag?.trim();
  const fromEnv = raw(env, 'DATA_DIR');
  return { dataDir: resolve(given || fromEnv || 'data'), dataDirFrom: given ? '--data-dir' : fromEnv ? 'DATA_DIR' : 'default' };
}

const OMP_WAIT_POLICIES: readonly OmpWaitPolicy[] = ['passive', 'active'];

/** OMP_WAIT_POLICY, as OpenMP reads it (either case). */
export function ompWaitPolicy(env: Env): OmpWaitPolicy {
  const value = raw(env, 'OMP_WAIT_POLICY');
  if (value === undefined) return 'passive';
  const policy = value.toLowerCase();
  if (!(OMP_WAIT_POLICIES as readonly string[]).includes(policy)) throw new SettingError('OMP_WAIT_POLICY', value, `one of ${OMP_WAIT_POLICIES.join(', ')}`);
  return policy as OmpWaitPolicy;
}

/**
 * Every runtime setting from the environment (and the `--data-dir` and `--definitions` flags
 * when given), checked. Pure: touches no disk (see prepareDataDir).
 */
export function loadRuntimeSettings(env: Env = process.env, flags: { readonly dataDir?: string; readonly definitions?: string } = {}): RuntimeSettings {
  const { dataDir, dataDirFrom } = dataDirSetting(env, flags.dataDir);
  return {
    dataDir,
    dataDirFrom,
    duckdb: duckdbSettingsFromEnv(env),
    storage: storageSettingsFromEnv(env),
    store: storeTargetFromEnv(env, dataDir),
    definitions: flags.definitions ?? env['ASSET_DEFINITIONS'],
    ompWaitPolicy: ompWaitPolicy(env),
  };
}

/**
 * Makes sure the data directory exists and is writable, creating it (and missing parents) when
 * needed, and says which setting to fix when it cannot be: a read-only mount, a file in the
 * way, a parent that cannot hold directories. Each missing level is created on its own: Node's
 * recursive mkdir never returns for some paths under /proc (DATA_DIR=/proc/nope hung).
 */
export function prepareDataDir(settings: Pick<RuntimeSettings, 'dataDir' | 'dataDirFrom'>): void {
  const dir = settings.dataDir;
  const name = settings.dataDirFrom === 'default' ? 'DATA_DIR (default ./data)' : settings.dataDirFrom;
  const accepted = 'a writable directory (or one that can be created) for the lineage store and asset files';
  const fail = (problem: string): never => {
    throw new SettingError(name, dir, accepted, { problem });
  };
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    const st = statOrNull(existing);
    if (st) {
      if (!st.isDirectory()) fail(existing === dir ? 'is not a directory' : `cannot be created: ${existing} is not a directory`);
      break;
    }
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') fail(`cannot be created (${code ?? 'error'} creating ${level}${code === 'EROFS' ? ': read-only file system' : ''})`);
    }
  }
  // access() says yes to root on a read-only mount, so write and remove a probe file instead.
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    accessSync(dir, constants.W_OK);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(`is not writable (${code === 'EROFS' ? 'read-only file system' : (code ?? 'error')})`);
  }
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Where a run's steps run: in this process (default), or on `materialize worker` processes. */
export type ExecutorKind = 'in-process' | 'workers';
export const EXECUTOR_KINDS: readonly ExecutorKind[] = ['in-process', 'workers'];

export interface ExecutorSettings {
  readonly kind: ExecutorKind;
  /** A worker's claim of a unit, and its partitions' leases, last this long unless renewed (a third of it). */
  readonly workerLeaseMs: number;
  /** After SIGTERM, how long a worker may finish its unit before handing it back (keep below terminationGracePeriodSeconds). */
  readonly drainTimeoutS: number;
  /** How long a coordinator's unit waits for its pool while another run's unit holds it, before its steps fail. */
  readonly poolWaitS: number;
}

/** EXECUTOR (or --executor), WORKER_LEASE_MS, WORKER_DRAIN_TIMEOUT_S, WORKER_POOL_WAIT_S. */
export function executorSettingsFromEnv(env: Env, flags: { readonly executor?: string } = {}): ExecutorSettings {
  const name = flags.executor !== undefined ? '--executor' : 'EXECUTOR';
  const value = flags.executor ?? raw(env, 'EXECUTOR') ?? 'in-process';
  if (!(EXECUTOR_KINDS as readonly string[]).includes(value)) throw new SettingError(name, value, `one of ${EXECUTOR_KINDS.join(', ')}`);
  return {
    kind: value as ExecutorKind,
    workerLeaseMs: wholeNumber('WORKER_LEASE_MS', raw(env, 'WORKER_LEASE_MS'), 30_000, 1_000, 3_600_000),
    drainTimeoutS: wholeNumber('WORKER_DRAIN_TIMEOUT_S', raw(env, 'WORKER_DRAIN_TIMEOUT_S'), 25, 0, 86_400),
    poolWaitS: wholeNumber('WORKER_POOL_WAIT_S', raw(env, 'WORKER_POOL_WAIT_S'), 3_600, 1, 604_800),
  };
}

/** RUN_QUEUE_MAX_CONCURRENT and RUN_QUEUE_POOL_LIMITS: how many runs (UI, API, daemon, CLI) run at once, in all and per pool. */
export interface RunQueueSettings {
  readonly maxConcurrentRuns: number;
  /** Per pool (an asset's `pool`), the runs using it that may run at once; a pool not named has no limit. */
  readonly poolLimits: Readonly<Record<string, number>>;
}

export const RUN_QUEUE_DEFAULTS: RunQueueSettings = { maxConcurrentRuns: 4, poolLimits: {} };

/** RUN_QUEUE_POOL_LIMITS: `pool=N` pairs, comma-separated (`training=1,io=3`). */
export function poolLimits(name: string, value: string | undefined): Readonly<Record<string, number>> {
  if (value === undefined || value.trim() === '') return {};
  const out: Record<string, number> = {};
  for (const part of value.split(',')) {
    const m = /^\s*([A-Za-z0-9][A-Za-z0-9_./-]*)\s*=\s*(\d+)\s*$/.exec(part);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 256)
      throw new SettingError(name, value, 'pool=N pairs separated by commas, N a whole number from 1 to 256, e.g. "training=1,io=3"');
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function runQueueSettingsFromEnv(env: Env = process.env): RunQueueSettings {
  return {
    maxConcurrentRuns: wholeNumber('RUN_QUEUE_MAX_CONCURRENT', raw(env, 'RUN_QUEUE_MAX_CONCURRENT'), RUN_QUEUE_DEFAULTS.maxConcurrentRuns, 1, 256),
    poolLimits: poolLimits('RUN_QUEUE_POOL_LIMITS', raw(env, 'RUN_QUEUE_POOL_LIMITS')),
  };
}
