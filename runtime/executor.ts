// The effectful executor: runs a plan in process, independent asset partitions
// concurrently up to a limit. For each step it takes the partition's lease,
// decides again against the live store whether the step is still needed (an
// upstream may have produced identical data, another process may have done
// it), runs `materialize`, writes the output to a temporary file, runs the
// checks, publishes the file and commits the materialization with its
// provenance in one store transaction. Nothing is published for a step that
// failed, was blocked by a check, or was canceled. A step that fails hashes the
// input files it read: a bad one is marked corrupt in the store (the next run
// rewrites it) and named in the error. A full disk or a read-only filesystem
// stops the whole run with one message instead of failing every step.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import type { DuckDBConnection } from '@duckdb/node-api';
import type {
  AssetContext,
  AssetDefinition,
  AssetInput,
  CandidateOutput,
  CheckContext,
  ConsumedPartition,
  JsonValue,
  MaterializeOutput,
  Metadata,
} from './definitions.ts';
import { borrowConnection, readParquetSql, returnConnection, sqlString } from './duckdb.ts';
import { errorMessage, RuntimeError } from './errors.ts';
import { checkVersions, describeBadFile, type StoredVersion } from './integrity.ts';
import { describeResourceProblem, resourceProblem } from './resources.ts';
import { eventLevel, eventMessage, type RunCounts, type RunEvent, type RunEventListener } from './events.ts';
import type { Instance } from './instance.ts';
import { describePartition, type AssetKey, type PartitionKey } from './keys.ts';
import { loggerFrom } from './logger.ts';
import type { Plan, PlanStep } from './planner.ts';
import { refreshReason } from './refresh.ts';
import { describeCause, isActionable, StalenessResolver, type CurrentView } from './staleness.ts';
import type { NewCheckResult, NewEvent } from './store/lineage-store.ts';
import type { CurrentRecord, InputRecord } from './store/records.ts';
import { dataVersionOfFile, type DataVersion } from './versions.ts';

export interface ExecuteOptions {
  readonly runId: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly trigger: string;
  readonly force: boolean;
  /** How many steps run at once. Default DEFAULT_CONCURRENCY (twice the cores, 2 to 8). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunEventListener;
  /** The clock planning used; partition windows are fixed at it for the whole run. */
  readonly now: Date;
  /** Lease lifetime; renewed by a heartbeat at a third of it. Default 30 s. */
  readonly leaseTtlMs?: number;
}

export interface RunResult {
  readonly runId: string;
  readonly status: 'succeeded' | 'failed' | 'canceled';
  readonly counts: RunCounts;
  readonly durationMs: number;
  /** Failed or blocked steps, with why. */
  readonly failures: readonly { readonly asset: string; readonly partition: string; readonly error: string }[];
}

type Outcome = 'materialized' | 'skipped' | 'failed' | 'blocked' | 'canceled';

interface Node {
  readonly step: PlanStep;
  readonly id: string;
  readonly dependents: Node[];
  pending: number;
  /** The first upstream node that failed or was blocked, which makes this one skip. */
  failedUpstream?: string;
  outcome?: Outcome;
}

const stepId = (asset: string, partition: string) => asset + '\u0000' + partition;

export async function executePlan<R>(instance: Instance<R>, plan: Plan, options: ExecuteOptions): Promise<RunResult> {
  const { store, graph } = instance;
  const started = Date.now();
  const leaseTtlMs = options.leaseTtlMs ?? 30_000;
  const counts: RunCounts = { materialized: 0, unchanged: 0, skipped: 0, failed: 0, blocked: 0 };
  const failures: { asset: string; partition: string; error: string }[] = [];
  const signal = options.signal ?? new AbortController().signal;

  // Events are written in batches (at most every 200 ms, and with each
  // materialization's own transaction) rather than one write transaction each:
  // a validated partition emits ten events, and a 2,000-day backfill would
  // otherwise spend its time committing log lines.
  let pending: NewEvent[] = [];
  const takePending = (): NewEvent[] => {
    const out = pending;
    pending = [];
    return out;
  };
  // A resource problem (full disk, read-only store) stops the run: set once, with the message it ends with.
  let fatal: string | undefined;
  const describeProblem = (err: unknown, writing?: string): string | undefined => {
    const p = resourceProblem(err);
    return p && describeResourceProblem(p, { dataDir: instance.dataDir, storePath: store.path, writing });
  };
  /** Stops the run at the first resource problem; true only for that first one (later ones are its echoes). */
  const stopRun = (message: string): boolean => {
    if (fatal !== undefined) return false;
    fatal = message;
    runError = message;
    return true;
  };
  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = takePending();
    try {
      store.appendEvents(batch);
    } catch (err) {
      // The log could not be written: the run cannot be recorded faithfully, so it stops.
      stopRun(describeProblem(err, `the run's events to ${store.path}`) ?? `Writing the run's events to ${store.path} failed: ${errorMessage(err)}. The run stopped.`);
    }
  };
  const flusher = setInterval(flush, 200);
  flusher.unref();
  const emit = (event: RunEvent, persist = true): void => {
    if (persist) pending.push(toStoredEvent(event));
    options.onEvent?.(event);
  };

  // Build the dependency network between planned steps.
  const nodes = new Map<string, Node>();
  const nodesByAsset = new Map<AssetKey, Node[]>();
  for (const step of plan.steps) {
    if (step.action === 'skip') continue;
    const node: Node = { step, id: stepId(step.asset, step.partition), dependents: [], pending: 0 };
    nodes.set(node.id, node);
    let list = nodesByAsset.get(step.asset);
    if (!list) nodesByAsset.set(step.asset, (list = []));
    list.push(node);
  }
  // Dynamic partition keys as the run starts: a key added during the run waits for the next one.
  const dynamic = instance.store.dynamicPartitionKeys();
  const planResolver = new StalenessResolver(graph, emptyView, options.now, { dynamic });
  for (const node of nodes.values()) {
    const upstreamIds = new Set<string>();
    for (const dep of graph.deps(node.step.asset)) {
      const upstreamNodes = nodesByAsset.get(dep.asset);
      if (!upstreamNodes) continue;
      if (dep.mapping.kind === 'all') for (const u of upstreamNodes) upstreamIds.add(u.id);
      else for (const k of planResolver.expectedInputs(dep, node.step.partition)) if (nodes.has(stepId(dep.asset, k))) upstreamIds.add(stepId(dep.asset, k));
    }
    for (const id of upstreamIds) nodes.get(id)!.dependents.push(node);
    node.pending = upstreamIds.size;
  }

  try {
    store.closeAbandonedRuns(started, leaseTtlMs * 3);
    store.createRun({ id: options.runId, selection: options.selection, partitions: options.partitions, trigger: options.trigger, now: started });
  } catch (err) {
    clearInterval(flusher);
    const message = describeProblem(err, `the new run to ${store.path}`);
    if (message) throw new RuntimeError('resource-exhausted', message);
    throw err;
  }
  const assetsPlanned = [...nodesByAsset].map(([asset, list]) => ({ asset, steps: list.length }));
  emit({
    type: 'run_started',
    runId: options.runId,
    ts: started,
    selection: options.selection,
    partitions: options.partitions,
    trigger: options.trigger,
    planned: plan.counts,
    assets: assetsPlanned,
  });
  flush();
  counts.skipped += plan.counts.skip;

  const heartbeat = setInterval(() => {
    try {
      store.heartbeat(options.runId, Date.now(), leaseTtlMs);
    } catch {
      // A missed heartbeat only shortens the lease; the next one retries.
    }
  }, Math.max(50, leaseTtlMs / 3));
  heartbeat.unref();

  // The columns of a SQL table asset are the same for each partition a run writes
  // (same code, same query shape): read them once per asset, not once per partition.
  const columnCache = new Map<string, string[]>();
  const ready: Node[] = [...nodes.values()].filter((n) => n.pending === 0);
  let running = 0;
  const busyPools = new Set<string>();
  let runError: string | null = null as string | null;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);

  await new Promise<void>((resolveAll) => {
    let remaining = nodes.size;
    if (remaining === 0) return resolveAll();
    const finish = (node: Node, outcome: Outcome): void => {
      node.outcome = outcome;
      running--;
      remaining--;
      for (const d of node.dependents) {
        if (outcome === 'failed' || outcome === 'blocked' || (outcome === 'canceled' && !d.failedUpstream)) {
          d.failedUpstream ??= describePartition(node.step.asset, node.step.partition) + (outcome === 'blocked' ? ' was blocked by a failed check' : outcome === 'canceled' ? ' was canceled' : ' failed');
        } else if (node.failedUpstream && !d.failedUpstream) {
          d.failedUpstream = node.failedUpstream;
        }
        if (--d.pending === 0) ready.push(d);
      }
      if (remaining === 0) resolveAll();
      else pump();
    };
    const pump = (): void => {
      for (let k = 0; (running < concurrency || fatal !== undefined) && k < ready.length; ) {
        const node = ready[k]!;
        const pool = graph.get(node.step.asset).pool;
        if (pool !== undefined && busyPools.has(pool)) {
          k++; // its pool is busy: leave it queued, try the next ready step
          continue;
        }
        ready.splice(k, 1);
        if (pool !== undefined) busyPools.add(pool);
        running++;
        runNode(node).then(
          (o) => {
            if (pool !== undefined) busyPools.delete(pool);
            finish(node, o);
          },
          (err) => {
            if (pool !== undefined) busyPools.delete(pool);
            const problem = describeProblem(err);
            if (problem) {
              if (stopRun(problem)) {
                counts.failed++;
                failures.push({ asset: node.step.asset, partition: node.step.partition, error: problem });
                emit({ runId: options.runId, asset: node.step.asset, partition: node.step.partition, ts: Date.now(), type: 'step_failed', error: errorMessage(err), durationMs: 0 });
              } else counts.skipped++;
            } else runError ??= errorMessage(err);
            finish(node, 'failed');
          },
        );
      }
    };
    pump();
  });
  clearInterval(heartbeat);

  async function runNode(node: Node): Promise<Outcome> {
    const { asset, partition } = node.step;
    const base = { runId: options.runId, asset, partition };
    if (fatal !== undefined) {
      // The run stopped (full disk): what never started is counted, not announced one line each.
      counts.skipped++;
      return 'canceled';
    }
    if (node.failedUpstream) {
      counts.skipped++;
      emit({ ...base, ts: Date.now(), type: 'step_skipped', reason: `upstream ${node.failedUpstream}` });
      return 'skipped';
    }
    if (signal.aborted) {
      counts.skipped++;
      emit({ ...base, ts: Date.now(), type: 'step_skipped', reason: 'run canceled' });
      return 'canceled';
    }
    const def = graph.get(asset);
    let waitingAnnounced = false;
    for (;;) {
      const lease = store.tryAcquireLease(asset, partition, options.runId, Date.now(), leaseTtlMs);
      if (lease.acquired) break;
      if (!waitingAnnounced) {
        emit({ ...base, ts: Date.now(), type: 'step_waiting', holder: lease.holder });
        waitingAnnounced = true;
      }
      if (!(await sleep(200, signal))) {
        counts.skipped++;
        emit({ ...base, ts: Date.now(), type: 'step_skipped', reason: 'run canceled' });
        return 'canceled';
      }
    }
    try {
      const live = new StalenessResolver(graph, liveView(instance), options.now, { shallow: true, dynamic });
      // A partition due for a re-read runs fresh or not: the same decision the planner made.
      if (!options.force && refreshReason(def, partition, options.now, dynamic) === undefined) {
        const s = live.status(asset, partition);
        if (s.status === 'FRESH' || (s.status === 'STALE' && !s.causes.some(isActionable))) {
          counts.skipped++;
          const reason =
            s.current && s.current.runId !== options.runId && node.step.action === 'run'
              ? `materialized meanwhile by run ${s.current.runId}`
              : s.status === 'FRESH'
                ? node.step.action === 'conditional'
                  ? 'fresh: upstream data did not change'
                  : 'fresh'
                : `waiting on upstream: ${s.causes.map(describeCause).join('; ')}`;
          emit({ ...base, ts: Date.now(), type: 'step_skipped', reason });
          return 'skipped';
        }
      }
      return await materializeStep(def, partition, live);
    } finally {
      store.releaseLease(asset, partition, options.runId);
    }
  }

  async function materializeStep(def: AssetDefinition<R>, partition: PartitionKey, live: StalenessResolver): Promise<Outcome> {
    const asset = def.key;
    const base = { runId: options.runId, asset, partition };
    const stepStarted = Date.now();
    const previous = store.current(asset, partition);

    // Resolve inputs: exactly the current versions of the mapped upstream partitions.
    const inputs: Record<string, AssetInput> = {};
    const consumed: InputRecord[] = [];
    const consumedFiles: StoredVersion[] = [];
    for (const dep of graph.deps(asset)) {
      const keys = live.expectedInputs(dep, partition);
      const parts: ConsumedPartition[] = [];
      const missing: PartitionKey[] = [];
      for (const k of keys) {
        const cur = store.current(dep.asset, k);
        if (!cur) missing.push(k);
        else parts.push({ partition: k, materializationId: cur.id, dataVersion: cur.dataVersion, location: cur.location });
      }
      if (missing.length > 0 || parts.length === 0) {
        const what = missing.length > 0 ? `${missing.slice(0, 3).map((k) => describePartition(dep.asset, k)).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}` : dep.asset;
        const error = `needs ${what}, which ${missing.length > 1 ? 'are' : 'is'} not materialized. Materialize upstream first (select +${asset}).`;
        counts.failed++;
        failures.push({ asset, partition, error });
        emit({ ...base, ts: Date.now(), type: 'step_failed', error, durationMs: Date.now() - stepStarted });
        return 'failed';
      }
      inputs[dep.inputName] = makeInput(instance, dep.asset, graph.get(dep.asset).io, parts);
      for (const p of parts) {
        consumed.push({ asset: dep.asset, partition: p.partition, materializationId: p.materializationId, dataVersion: p.dataVersion });
        consumedFiles.push({ asset: dep.asset, partition: p.partition, materializationId: p.materializationId, dataVersion: p.dataVersion, location: p.location });
      }
    }

    let attempt = 0;
    for (;;) {
      attempt++;
      emit({ ...base, ts: Date.now(), type: 'step_started', attempt });
      const tempDir = await instance.storage.makeTempDir(`${options.runId}-${asset}-${partition}`);
      let conn: DuckDBConnection | undefined;
      const duckdb = async () => (conn ??= await borrowConnection());
      const log = loggerFrom((level, message, data) =>
        emit({ ...base, ts: Date.now(), type: 'log', level, message, ...(data ? { data } : {}) }),
      );
      const common = { asset, partition, runId: options.runId, resources: instance.definitions.resources, log, signal, tempDir, duckdb };
      try {
        const ctx: AssetContext<R> = {
          ...common,
          inputs,
          input(name: string) {
            const i = inputs[name];
            if (!i) throw new Error(`Asset ${asset} has no input named "${name}"; its inputs are: ${Object.keys(inputs).join(', ') || 'none'}.`);
            return i;
          },
          previous: previous && { dataVersion: previous.dataVersion, metadata: store.materialization(previous.id)?.metadata ?? {} },
        };
        const output = await def.materialize(ctx);
        if (signal.aborted) throw new CanceledError();
        const written = await writeOutput(def, output, tempDir, duckdb, columnCache);
        const dataVersion = await dataVersionOfFile(written.path);
        const metadata: Metadata = { ...written.metadata, ...(output.metadata ?? {}) };
        const candidate: CandidateOutput = {
          io: def.io,
          path: written.path,
          dataVersion,
          metadata,
          sql: def.io === 'table' ? readParquetSql([written.path]) : '',
          json: async <T>() => JSON.parse(await readFile(written.path, 'utf8')) as T,
        };

        const checkResults: NewCheckResult[] = [];
        for (const check of def.checks) {
          const blocking = check.blocking ?? true;
          let result: NewCheckResult;
          try {
            const checkCtx: CheckContext<R> = { ...common, output: candidate };
            const r = await check.check(checkCtx);
            result = { name: check.name, blocking, passed: r.passed, message: r.message ?? '', metadata: r.metadata ?? {} };
          } catch (err) {
            result = { name: check.name, blocking, passed: false, message: `the check itself threw: ${errorMessage(err)}`, metadata: {} };
          }
          checkResults.push(result);
          emit({ ...base, ts: Date.now(), type: 'check_evaluated', check: result.name, blocking, passed: result.passed, message: result.message });
        }
        if (signal.aborted) throw new CanceledError();

        const blockers = checkResults.filter((c) => c.blocking && !c.passed);
        const endedAt = Date.now();
        if (blockers.length > 0) {
          const message = blockers.map((b) => `${b.name}: ${b.message}`).join('; ');
          const event: RunEvent = { ...base, ts: endedAt, type: 'step_blocked', failedChecks: blockers.map((b) => b.name), message };
          store.commitMaterialization({
            asset, partition, runId: options.runId, status: 'blocked', codeVersion: def.codeVersion, dataVersion,
            location: null, metadata, startedAt: stepStarted, endedAt, inputs: consumed, checks: checkResults, events: [toStoredEvent(event)], logEvents: takePending(),
          });
          emit(event, false);
          counts.blocked++;
          failures.push({ asset, partition, error: `blocked by check ${message}` });
          return 'blocked';
        }

        const location = await instance.storage.publish({ tempPath: written.path, asset, partition, dataVersion, io: def.io });
        const unchanged = previous?.dataVersion === dataVersion;
        const repaired = previous?.corrupt !== undefined;
        const event: RunEvent = { ...base, ts: endedAt, type: 'step_materialized', dataVersion, unchanged, ...(repaired ? { repaired } : {}), durationMs: endedAt - stepStarted, metadata };
        store.commitMaterialization({
          asset, partition, runId: options.runId, status: 'published', codeVersion: def.codeVersion, dataVersion,
          location, metadata, startedAt: stepStarted, endedAt, inputs: consumed, checks: checkResults, events: [toStoredEvent(event)], logEvents: takePending(),
        });
        emit(event, false);
        counts.materialized++;
        if (unchanged) counts.unchanged++;
        return 'materialized';
      } catch (err) {
        if (err instanceof CanceledError || signal.aborted) {
          counts.skipped++;
          emit({ ...base, ts: Date.now(), type: 'step_skipped', reason: 'run canceled; nothing was published' });
          return 'canceled';
        }
        const problem = describeProblem(err);
        if (problem) {
          if (!stopRun(problem)) {
            counts.skipped++;
            return 'canceled';
          }
          counts.failed++;
          failures.push({ asset, partition, error: problem });
          emit({ ...base, ts: Date.now(), type: 'step_failed', error: errorMessage(err), durationMs: Date.now() - stepStarted });
          return 'failed';
        }
        // A read of an input may have failed because its file is bad: hash what was read, and
        // if a file is not its data version, mark it corrupt (the next run rewrites it) and
        // say so; retrying against the same bad file would only fail again.
        const bad = await checkVersions(instance, consumedFiles, 'step').catch(() => []);
        const message =
          bad.length > 0
            ? `${errorMessage(err)} — input ${bad.slice(0, 3).map(describeBadFile).join('; ')}${bad.length > 3 ? ` and ${bad.length - 3} more` : ''}. ${bad.length === 1 ? 'It is' : 'They are'} marked corrupt; the next run rewrites ${bad.length === 1 ? 'it' : 'them'} (\`materialize +${asset}\`).`
            : errorMessage(err);
        if (attempt < def.retry.maxAttempts && bad.length === 0) {
          const delayMs = (def.retry.backoffMs ?? 1000) * 2 ** (attempt - 1);
          emit({ ...base, ts: Date.now(), type: 'step_retrying', attempt, error: message, delayMs });
          if (await sleep(delayMs, signal)) continue;
          counts.skipped++;
          emit({ ...base, ts: Date.now(), type: 'step_skipped', reason: 'run canceled during retry backoff' });
          return 'canceled';
        }
        counts.failed++;
        failures.push({ asset, partition, error: message });
        emit({ ...base, ts: Date.now(), type: 'step_failed', error: message, durationMs: Date.now() - stepStarted });
        return 'failed';
      } finally {
        if (conn) await returnConnection(conn);
        await rm(tempDir, { recursive: true, force: true });
      }
    }
  }

  const status: RunResult['status'] = signal.aborted ? 'canceled' : counts.failed + counts.blocked > 0 || runError ? 'failed' : 'succeeded';
  const durationMs = Date.now() - started;
  const error = runError ?? (failures.length > 0 ? `${failures.length} step${failures.length === 1 ? '' : 's'} failed or blocked` : signal.aborted ? 'canceled' : null);
  const finished: RunEvent = { type: 'run_finished', runId: options.runId, ts: Date.now(), status, durationMs, counts, error };
  clearInterval(flusher);
  emit(finished);
  flush();
  try {
    store.finishRun(options.runId, status, { ...counts }, error, Date.now());
  } catch {
    // Even the run's end could not be written (the disk is still full): it stays "running"
    // until the next process finds its heartbeat stopped and closes it as failed.
  }
  return { runId: options.runId, status, counts, durationMs, failures };
}

class CanceledError extends Error {}

/**
 * Steps in flight at once. Most of a small step's time is spent waiting (DuckDB's
 * own threads, fsync), so twice the cores keeps the machine busy.
 */
export const DEFAULT_CONCURRENCY = Math.max(2, Math.min(8, availableParallelism() * 2));

const emptyView: CurrentView = { current: () => undefined, materializedPartitions: () => [] };

/** A view of the live store for one decision, caching whole-asset reads it makes. */
function liveView(instance: Instance<unknown>): CurrentView {
  const whole = new Map<AssetKey, Map<PartitionKey, CurrentRecord>>();
  return {
    current: (asset, partition) => whole.get(asset)?.get(partition) ?? instance.store.current(asset, partition),
    materializedPartitions: (asset) => {
      let m = whole.get(asset);
      if (!m) {
        m = instance.store.snapshot([asset]).get(asset) ?? new Map();
        whole.set(asset, m);
      }
      return [...m.keys()];
    },
  };
}

function makeInput(instance: Instance<unknown>, asset: AssetKey, io: AssetInput['io'], partitions: ConsumedPartition[]): AssetInput {
  const paths = () => Promise.all(partitions.map((p) => instance.storage.localPath(p.location)));
  return {
    asset,
    io,
    partitions,
    paths,
    sql: async () => readParquetSql(await paths()),
    json: async <T>() => {
      if (partitions.length !== 1) throw new Error(`Input ${asset} has ${partitions.length} partitions; use jsonByPartition().`);
      return JSON.parse(await readFile(await instance.storage.localPath(partitions[0]!.location), 'utf8')) as T;
    },
    metadata: (partition?: PartitionKey) => {
      const p = partition === undefined ? (partitions.length === 1 ? partitions[0] : undefined) : partitions.find((x) => x.partition === partition);
      if (!p) throw new Error(`Input ${asset}: ${partition === undefined ? `has ${partitions.length} partitions; name one` : `partition ${partition} was not consumed`}.`);
      return instance.store.materialization(p.materializationId)?.metadata ?? {};
    },
    jsonByPartition: async <T>() => {
      const out = new Map<PartitionKey, T>();
      for (const p of partitions) out.set(p.partition, JSON.parse(await readFile(await instance.storage.localPath(p.location), 'utf8')) as T);
      return out;
    },
  };
}

async function writeOutput(
  def: AssetDefinition<unknown>,
  output: MaterializeOutput,
  tempDir: string,
  duckdb: () => Promise<DuckDBConnection>,
  columnCache: Map<string, string[]>,
): Promise<{ path: string; metadata: Metadata }> {
  const fail = (what: string) =>
    new Error(`Asset ${def.key} (io: ${def.io}) returned ${what}; a ${def.io} asset returns ${def.io === 'json' ? '{ value }' : def.io === 'table' ? '{ sql } or { parquetFile }' : '{ file }'}.`);
  if (!output || typeof output !== 'object') throw fail(String(output));
  if (def.io === 'json') {
    if (!('value' in output)) throw fail(`{ ${Object.keys(output).join(', ')} }`);
    const path = join(tempDir, 'value.json');
    await writeFile(path, JSON.stringify(output.value as JsonValue));
    return { path, metadata: {} };
  }
  if (def.io === 'table') {
    const conn = await duckdb();
    if ('sql' in output) {
      const path = join(tempDir, 'table.parquet');
      const copied = await conn.runAndReadAll(`COPY (${output.sql}) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION snappy)`);
      const rowCount = Number(copied.getRows()[0]?.[0] ?? 0);
      return { path, metadata: { rowCount, columns: await columnsOf(def.key, path, conn, columnCache) } };
    }
    if (!('parquetFile' in output)) throw fail(`{ ${Object.keys(output).join(', ')} }`);
    const path = output.parquetFile;
    const given = output.metadata?.rowCount;
    const rowCount =
      typeof given === 'number'
        ? given
        : Number((await conn.runAndReadAll(`SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata(${sqlString(path)})`)).getRows()[0]?.[0] ?? 0);
    return { path, metadata: { rowCount, columns: await columnsOf(def.key, path, conn, columnCache) } };
  }
  if (!('file' in output)) throw fail(`{ ${Object.keys(output).join(', ')} }`);
  if (typeof output.file === 'string') return { path: output.file, metadata: {} };
  const path = join(tempDir, 'artifact.bin');
  await writeFile(path, output.file);
  return { path, metadata: { bytes: output.file.byteLength } };
}

async function columnsOf(asset: string, path: string, conn: DuckDBConnection, cache: Map<string, string[]>): Promise<string[]> {
  let columns = cache.get(asset);
  if (!columns) {
    const r = await conn.runAndReadAll(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(path)}))`);
    columns = r.getRows().map(([name, type]) => `${String(name)}: ${String(type)}`);
    cache.set(asset, columns);
  }
  return columns;
}

function toStoredEvent(e: RunEvent): NewEvent {
  const { runId, ts, type, ...rest } = e;
  const asset = 'asset' in e ? e.asset : undefined;
  const partition = 'partition' in e ? e.partition : undefined;
  return { runId, ts, type, level: eventLevel(e), asset, partition, message: eventMessage(e), data: rest };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
