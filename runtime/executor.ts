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
  BatchContext,
  BatchOutput,
  CandidateOutput,
  CheckContext,
  ConsumedPartition,
  JsonValue,
  MaterializeOutput,
  Metadata,
  StepContextBase,
} from './definitions.ts';
import { groupIntoBatches } from './batches.ts';
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
import type { AssetGraph } from './graph.ts';
import type { LineageStore, NewCheckResult, NewEvent } from './store/lineage-store-api.ts';
import type { CurrentRecord, InputRecord, RunTrigger } from './store/records.ts';
import { dataVersionOfFile, type DataVersion } from './versions.ts';

export interface ExecuteOptions {
  readonly runId: string;
  readonly selection: string;
  readonly partitions: string | null;
  readonly trigger: RunTrigger;
  readonly force: boolean;
  /** How many steps run at once. Default DEFAULT_CONCURRENCY (twice the cores, 2 to 8). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: RunEventListener;
  /** Called once the run is recorded in the store. */
  readonly onRecorded?: () => void;
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

/** One planned step and the steps it waits for. */
interface StepState {
  readonly step: PlanStep;
  readonly id: string;
  /** Ids of the planned steps whose outputs it reads. */
  upstream: string[];
}

/** What the scheduler runs at once: one step, or a batch of one batch asset's steps. */
interface Unit {
  readonly asset: AssetKey;
  readonly steps: readonly StepState[];
  readonly dependents: Unit[];
  /** Upstream units not finished yet. */
  pending: number;
}

interface StepResult {
  readonly outcome: Outcome;
  /** Why it was skipped: the first upstream step that failed or was blocked (transitively). */
  readonly failedUpstream?: string;
}

/** A step whose lease is held and whose inputs are resolved: what its asset's code gets. */
interface ResolvedStep {
  readonly state: StepState;
  readonly partition: PartitionKey;
  readonly inputs: Readonly<Record<string, AssetInput>>;
  readonly consumed: InputRecord[];
  readonly consumedFiles: StoredVersion[];
  readonly previous: { readonly dataVersion: DataVersion; readonly metadata: Metadata; readonly corrupt: boolean } | undefined;
}

/** Each stored version once (a batch's members share most of their inputs). */
const dedupeFiles = (files: readonly StoredVersion[]): StoredVersion[] => [...new Map(files.map((f) => [f.materializationId, f])).values()];

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
    return p && describeResourceProblem(p, { dataDir: instance.dataDir, storePath: store.location, writing });
  };
  /** Stops the run at the first resource problem; true only for that first one (later ones are its echoes). */
  const stopRun = (message: string): boolean => {
    if (fatal !== undefined) return false;
    fatal = message;
    runError = message;
    return true;
  };
  // One write of the log at a time, in order: a commit waits for the one in flight so the
  // events of a run keep the order they happened in.
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    flushing = flushing.then(async () => {
      if (pending.length === 0) return;
      const batch = takePending();
      try {
        await store.appendEvents(batch);
      } catch (err) {
        // The log could not be written: the run cannot be recorded faithfully, so it stops.
        stopRun(describeProblem(err, `the run's events to ${store.location}`) ?? `Writing the run's events to ${store.location} failed: ${errorMessage(err)}. The run stopped.`);
      }
    });
    return flushing;
  };
  const flusher = setInterval(() => void flush(), 200);
  flusher.unref();
  const emit = (event: RunEvent, persist = true): void => {
    if (persist) pending.push(toStoredEvent(event));
    options.onEvent?.(event);
  };

  // Build the dependency network between planned steps, then group them into units.
  const states = new Map<string, StepState>();
  const statesByAsset = new Map<AssetKey, StepState[]>();
  for (const step of plan.steps) {
    if (step.action === 'skip') continue;
    const state: StepState = { step, id: stepId(step.asset, step.partition), upstream: [] };
    states.set(state.id, state);
    let list = statesByAsset.get(step.asset);
    if (!list) statesByAsset.set(step.asset, (list = []));
    list.push(state);
  }
  // Dynamic partition keys as the run starts: a key added during the run waits for the next one.
  const dynamic = await instance.store.dynamicPartitionKeys();
  const planResolver = new StalenessResolver(graph, emptyView, options.now, { dynamic });
  for (const state of states.values()) {
    const upstreamIds = new Set<string>();
    for (const dep of graph.deps(state.step.asset)) {
      const upstreamStates = statesByAsset.get(dep.asset);
      if (!upstreamStates) continue;
      if (dep.mapping.kind === 'all') for (const u of upstreamStates) upstreamIds.add(u.id);
      else for (const k of planResolver.expectedInputs(dep, state.step.partition)) if (states.has(stepId(dep.asset, k))) upstreamIds.add(stepId(dep.asset, k));
    }
    state.upstream = [...upstreamIds];
  }
  const units: Unit[] = [];
  const unitOf = new Map<string, Unit>();
  for (const [asset, list] of statesByAsset) {
    for (const steps of groupIntoBatches(graph, asset, list.map((s) => ({ partition: s.step.partition, state: s })))) {
      const unit: Unit = { asset, steps: steps.map((s) => s.state), dependents: [], pending: 0 };
      units.push(unit);
      for (const s of unit.steps) unitOf.set(s.id, unit);
    }
  }
  for (const unit of units) {
    const upstreamUnits = new Set<Unit>();
    for (const s of unit.steps) for (const u of s.upstream) upstreamUnits.add(unitOf.get(u)!);
    upstreamUnits.delete(unit);
    for (const u of upstreamUnits) u.dependents.push(unit);
    unit.pending = upstreamUnits.size;
  }
  const results = new Map<string, StepResult>();
  /** Why a step cannot run because of its upstream steps' results, or undefined when it can. */
  const failedUpstreamOf = (state: StepState): string | undefined => {
    let canceled: string | undefined;
    let inherited: string | undefined;
    for (const u of state.upstream) {
      const r = results.get(u);
      if (!r) continue;
      const { asset, partition } = states.get(u)!.step;
      if (r.outcome === 'failed' || r.outcome === 'blocked') return describePartition(asset, partition) + (r.outcome === 'blocked' ? ' was blocked by a failed check' : ' failed');
      if (r.failedUpstream) inherited ??= r.failedUpstream;
      else if (r.outcome === 'canceled') canceled ??= describePartition(asset, partition) + ' was canceled';
    }
    return inherited ?? canceled;
  };

  try {
    await store.closeAbandonedRuns(started, leaseTtlMs * 3);
    await store.createRun({ id: options.runId, selection: options.selection, partitions: options.partitions, trigger: options.trigger, now: started });
  } catch (err) {
    clearInterval(flusher);
    const message = describeProblem(err, `the new run to ${store.location}`);
    if (message) throw new RuntimeError('resource-exhausted', message);
    throw err;
  }
  options.onRecorded?.();
  const assetsPlanned = [...statesByAsset].map(([asset, list]) => ({ asset, steps: list.length }));
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
  await flush();
  counts.skipped += plan.counts.skip;

  const heartbeat = setInterval(() => {
    store.heartbeat(options.runId, Date.now(), leaseTtlMs).catch(() => {
      // A missed heartbeat only shortens the lease; the next one retries.
    });
  }, Math.max(50, leaseTtlMs / 3));
  heartbeat.unref();

  // The columns of a SQL table asset are the same for each partition a run writes
  // (same code, same query shape): read them once per asset, not once per partition.
  const columnCache = new Map<string, string[]>();
  const ready: Unit[] = units.filter((u) => u.pending === 0);
  let running = 0;
  const busyPools = new Set<string>();
  let runError: string | null = null as string | null;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);

  await new Promise<void>((resolveAll) => {
    let remaining = units.length;
    if (remaining === 0) return resolveAll();
    const finish = (unit: Unit): void => {
      running--;
      remaining--;
      for (const d of unit.dependents) if (--d.pending === 0) ready.push(d);
      if (remaining === 0) resolveAll();
      else pump();
    };
    const pump = (): void => {
      for (let k = 0; (running < concurrency || fatal !== undefined) && k < ready.length; ) {
        const unit = ready[k]!;
        const pool = graph.get(unit.asset).pool;
        if (pool !== undefined && busyPools.has(pool)) {
          k++; // its pool is busy: leave it queued, try the next ready step
          continue;
        }
        ready.splice(k, 1);
        if (pool !== undefined) busyPools.add(pool);
        running++;
        runUnit(unit).then(
          () => {
            if (pool !== undefined) busyPools.delete(pool);
            finish(unit);
          },
          (err) => {
            if (pool !== undefined) busyPools.delete(pool);
            const problem = describeProblem(err);
            for (const s of unit.steps) {
              if (results.has(s.id)) continue;
              results.set(s.id, { outcome: 'failed' });
              const { asset, partition } = s.step;
              if (problem) {
                if (stopRun(problem)) {
                  counts.failed++;
                  failures.push({ asset, partition, error: problem });
                  emit({ runId: options.runId, asset, partition, ts: Date.now(), type: 'step_failed', error: errorMessage(err), durationMs: 0 });
                } else counts.skipped++;
              } else runError ??= errorMessage(err);
            }
            finish(unit);
          },
        );
      }
    };
    pump();
  });
  clearInterval(heartbeat);

  /** Runs a unit's steps (one, or a batch asset's group); every step ends with a result. */
  async function runUnit(unit: Unit): Promise<void> {
    const def = graph.get(unit.asset);
    const startable: StepState[] = [];
    for (const s of unit.steps) {
      const base = baseOf(s);
      if (fatal !== undefined) {
        // The run stopped (full disk): what never started is counted, not announced one line each.
        counts.skipped++;
        results.set(s.id, { outcome: 'canceled' });
        continue;
      }
      const upstreamFailure = failedUpstreamOf(s);
      if (upstreamFailure) {
        counts.skipped++;
        emit({ ...base, ts: Date.now(), type: 'step_skipped', reason: `upstream ${upstreamFailure}` });
        results.set(s.id, { outcome: 'skipped', failedUpstream: upstreamFailure });
        continue;
      }
      if (signal.aborted) {
        cancelStep(s, 'run canceled');
        continue;
      }
      startable.push(s);
    }
    const leased: StepState[] = [];
    try {
      for (const s of startable) {
        if (!(await acquireLease(s))) {
          for (const rest of startable.slice(leased.length)) cancelStep(rest, 'run canceled');
          return;
        }
        leased.push(s);
      }
      const view = await liveView(store, graph, planResolver, unit.asset, leased.map((s) => s.step.partition));
      const live = new StalenessResolver(graph, view, options.now, { shallow: true, dynamic });
      const members: ResolvedStep[] = [];
      for (const s of leased) {
        const skip = options.force ? undefined : stillNeeded(def, s, live);
        if (skip !== undefined) {
          counts.skipped++;
          emit({ ...baseOf(s), ts: Date.now(), type: 'step_skipped', reason: skip });
          results.set(s.id, { outcome: 'skipped' });
          continue;
        }
        const resolved = await resolveInputs(def, s, live, view);
        if ('error' in resolved) {
          failStep(s, resolved.error, 0);
          continue;
        }
        members.push(resolved);
      }
      if (members.length > 0) await materializeMembers(def, members);
    } finally {
      await Promise.all(leased.map((s) => store.releaseLease(s.step.asset, s.step.partition, options.runId)));
    }
  }

  function baseOf(s: StepState): { runId: string; asset: AssetKey; partition: PartitionKey } {
    return { runId: options.runId, asset: s.step.asset, partition: s.step.partition };
  }

  function cancelStep(s: StepState, reason: string): void {
    counts.skipped++;
    emit({ ...baseOf(s), ts: Date.now(), type: 'step_skipped', reason });
    results.set(s.id, { outcome: 'canceled' });
  }

  function failStep(s: StepState, error: string, durationMs: number): void {
    counts.failed++;
    failures.push({ asset: s.step.asset, partition: s.step.partition, error });
    emit({ ...baseOf(s), ts: Date.now(), type: 'step_failed', error, durationMs });
    results.set(s.id, { outcome: 'failed' });
  }

  /** Takes the step's lease, waiting while another run holds it; false when the run is canceled meanwhile. */
  async function acquireLease(s: StepState): Promise<boolean> {
    let waitingAnnounced = false;
    for (;;) {
      const lease = await store.tryAcquireLease(s.step.asset, s.step.partition, options.runId, Date.now(), leaseTtlMs);
      if (lease.acquired) return true;
      if (!waitingAnnounced) {
        emit({ ...baseOf(s), ts: Date.now(), type: 'step_waiting', holder: lease.holder });
        waitingAnnounced = true;
      }
      if (!(await sleep(200, signal))) return false;
    }
  }

  /**
   * The live re-check, with the lease held: why the step need not run after all (fresh, made
   * meanwhile by another run, still waiting on upstream), or undefined when it must. A
   * partition due for a re-read runs fresh or not: the same decision the planner made.
   */
  function stillNeeded(def: AssetDefinition<R>, s: StepState, live: StalenessResolver): string | undefined {
    if (refreshReason(def, s.step.partition, options.now, dynamic) !== undefined) return undefined;
    const st = live.status(def.key, s.step.partition);
    if (!(st.status === 'FRESH' || (st.status === 'STALE' && !st.causes.some(isActionable)))) return undefined;
    return st.current && st.current.runId !== options.runId && s.step.action === 'run'
      ? `materialized meanwhile by run ${st.current.runId}`
      : st.status === 'FRESH'
        ? s.step.action === 'conditional'
          ? 'fresh: upstream data did not change'
          : 'fresh'
        : `waiting on upstream: ${st.causes.map(describeCause).join('; ')}`;
  }

  /** Exactly the current versions of the step's mapped upstream partitions, or why it cannot run. */
  async function resolveInputs(def: AssetDefinition<R>, s: StepState, live: StalenessResolver, view: CurrentView): Promise<ResolvedStep | { error: string }> {
    const asset = def.key;
    const partition = s.step.partition;
    const inputs: Record<string, AssetInput> = {};
    const consumed: InputRecord[] = [];
    const consumedFiles: StoredVersion[] = [];
    for (const dep of graph.deps(asset)) {
      const keys = live.expectedInputs(dep, partition);
      const parts: ConsumedPartition[] = [];
      const missing: PartitionKey[] = [];
      for (const k of keys) {
        const cur = view.current(dep.asset, k);
        if (!cur) missing.push(k);
        else parts.push({ partition: k, materializationId: cur.id, dataVersion: cur.dataVersion, location: cur.location });
      }
      if (missing.length > 0 || parts.length === 0) {
        const what = missing.length > 0 ? `${missing.slice(0, 3).map((k) => describePartition(dep.asset, k)).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}` : dep.asset;
        return { error: `needs ${what}, which ${missing.length > 1 ? 'are' : 'is'} not materialized. Materialize upstream first (select +${asset}).` };
      }
      inputs[dep.inputName] = await makeInput(instance, dep.asset, graph.get(dep.asset).io, parts);
      for (const p of parts) {
        consumed.push({ asset: dep.asset, partition: p.partition, materializationId: p.materializationId, dataVersion: p.dataVersion });
        consumedFiles.push({ asset: dep.asset, partition: p.partition, materializationId: p.materializationId, dataVersion: p.dataVersion, location: p.location });
      }
    }
    const current = view.current(asset, partition);
    const previous = current && { dataVersion: current.dataVersion, metadata: (await store.materialization(current.id))?.metadata ?? {}, corrupt: current.corrupt !== undefined };
    return { state: s, partition, inputs, consumed, consumedFiles, previous };
  }

  /** Calls the asset's code once for `members` and publishes each member's output; retries the call per the asset's policy. */
  async function materializeMembers(def: AssetDefinition<R>, members: readonly ResolvedStep[]): Promise<void> {
    const asset = def.key;
    const first = members[0]!;
    const stepStarted = Date.now();
    let attempt = 0;
    for (;;) {
      attempt++;
      for (const m of members) emit({ ...baseOf(m.state), ts: Date.now(), type: 'step_started', attempt });
      const label = members.length === 1 ? first.partition : `${first.partition}+${members.length - 1}`;
      const tempDir = await instance.storage.makeTempDir(`${options.runId}-${asset}-${label}`);
      let conn: DuckDBConnection | undefined;
      const duckdb = async () => (conn ??= await borrowConnection());
      // A batch logs under its first partition; its messages are about the whole batch.
      const log = loggerFrom((level, message, data) =>
        emit({ ...baseOf(first.state), ts: Date.now(), type: 'log', level, message, ...(data ? { data } : {}) }),
      );
      const common = { asset, runId: options.runId, resources: instance.definitions.resources, log, signal, tempDir, duckdb };
      try {
        const outputs = await callAssetCode(def, members, common);
        if (signal.aborted) throw new CanceledError();
        for (const [index, m] of members.entries()) {
          results.set(m.state.id, { outcome: await publishMember(def, m, outputs.get(m.partition), index, { ...common, partition: m.partition }, stepStarted) });
        }
        return;
      } catch (err) {
        if (err instanceof CanceledError || signal.aborted) {
          for (const m of members) if (!results.has(m.state.id)) cancelStep(m.state, 'run canceled; nothing was published');
          return;
        }
        const problem = describeProblem(err);
        if (problem) {
          const first = members.find((m) => !results.has(m.state.id));
          if (first && stopRun(problem)) failStep(first.state, problem, Date.now() - stepStarted);
          for (const m of members) {
            if (results.has(m.state.id)) continue;
            counts.skipped++;
            results.set(m.state.id, { outcome: 'canceled' });
          }
          return;
        }
        const { message, bad } = await describeFailure(asset, err, members.flatMap((m) => m.consumedFiles));
        if (attempt < def.retry.maxAttempts && bad === 0) {
          const delayMs = (def.retry.backoffMs ?? 1000) * 2 ** (attempt - 1);
          for (const m of members) emit({ ...baseOf(m.state), ts: Date.now(), type: 'step_retrying', attempt, error: message, delayMs });
          if (await sleep(delayMs, signal)) continue;
          for (const m of members) cancelStep(m.state, 'run canceled during retry backoff');
          return;
        }
        for (const m of members) if (!results.has(m.state.id)) failStep(m.state, message, Date.now() - stepStarted);
        return;
      } finally {
        if (conn) await returnConnection(conn);
        await rm(tempDir, { recursive: true, force: true });
      }
    }
  }

  /**
   * An error message for a failed call, after hashing the input files it read: a bad one is
   * marked corrupt in the store (the next run rewrites it) and named, since retrying against
   * the same bad file would only fail again.
   */
  async function describeFailure(asset: AssetKey, err: unknown, consumedFiles: readonly StoredVersion[]): Promise<{ message: string; bad: number }> {
    const bad = await checkVersions(instance, dedupeFiles(consumedFiles), 'step').catch(() => []);
    const message =
      bad.length > 0
        ? `${errorMessage(err)} — input ${bad.slice(0, 3).map(describeBadFile).join('; ')}${bad.length > 3 ? ` and ${bad.length - 3} more` : ''}. ${bad.length === 1 ? 'It is' : 'They are'} marked corrupt; the next run rewrites ${bad.length === 1 ? 'it' : 'them'} (\`materialize +${asset}\`).`
        : errorMessage(err);
    return { message, bad: bad.length };
  }

  /** Writes one member's output, runs its checks, and publishes and commits it (or records it blocked). */
  async function publishMember(
    def: AssetDefinition<R>,
    m: ResolvedStep,
    output: BatchOutput | undefined,
    index: number,
    common: Omit<CheckContext<R>, 'output'>,
    stepStarted: number,
  ): Promise<Outcome> {
    const asset = def.key;
    const { partition } = m;
    const base = baseOf(m.state);
    if (output === undefined) {
      failStep(m.state, `the batch function of ${asset} returned no output for partition ${partition}; it must return one for each member.`, Date.now() - stepStarted);
      return 'failed';
    }
    if ('error' in output) {
      failStep(m.state, (await describeFailure(asset, output.error, m.consumedFiles)).message, Date.now() - stepStarted);
      return 'failed';
    }
    try {
      const written = await writeOutput(def, output, common.tempDir, index, common.duckdb, columnCache);
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
          const r = await check.check({ ...common, output: candidate });
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
        await flushing;
        await store.commitMaterialization({
          asset, partition, runId: options.runId, status: 'blocked', codeVersion: def.codeVersion, dataVersion,
          location: null, metadata, startedAt: stepStarted, endedAt, inputs: m.consumed, checks: checkResults, events: [toStoredEvent(event)], logEvents: takePending(),
        });
        emit(event, false);
        counts.blocked++;
        failures.push({ asset, partition, error: `blocked by check ${message}` });
        return 'blocked';
      }

      const location = await instance.storage.publish({ tempPath: written.path, asset, partition, dataVersion, io: def.io });
      const unchanged = m.previous?.dataVersion === dataVersion;
      const repaired = m.previous?.corrupt === true;
      const event: RunEvent = { ...base, ts: endedAt, type: 'step_materialized', dataVersion, unchanged, ...(repaired ? { repaired } : {}), durationMs: endedAt - stepStarted, metadata };
      await flushing;
      await store.commitMaterialization({
        asset, partition, runId: options.runId, status: 'published', codeVersion: def.codeVersion, dataVersion,
        location, metadata, startedAt: stepStarted, endedAt, inputs: m.consumed, checks: checkResults, events: [toStoredEvent(event)], logEvents: takePending(),
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
      const message = errorMessage(err);
      counts.failed++;
      failures.push({ asset, partition, error: message });
      emit({ ...base, ts: Date.now(), type: 'step_failed', error: message, durationMs: Date.now() - stepStarted });
      return 'failed';
    }
  }

  /** Runs the asset's code for `members`: `materialize(ctx)` for the one member of a single-partition asset, the batch function otherwise. */
  async function callAssetCode(def: AssetDefinition<R>, members: readonly ResolvedStep[], common: Omit<StepContextBase<R>, 'partition'>): Promise<ReadonlyMap<PartitionKey, BatchOutput>> {
    const inputAccessor = (inputs: Readonly<Record<string, AssetInput>>) => (name: string) => {
      const i = inputs[name];
      if (!i) throw new Error(`Asset ${def.key} has no input named "${name}"; its inputs are: ${Object.keys(inputs).join(', ') || 'none'}.`);
      return i;
    };
    const previousOf = (m: ResolvedStep) => m.previous && { dataVersion: m.previous.dataVersion, metadata: m.previous.metadata };
    if (def.runner.kind === 'single') {
      const m = members[0]!;
      if (members.length !== 1) throw new Error(`Internal error: ${members.length} partitions of ${def.key} grouped into one step, but it has no batch policy.`);
      const ctx: AssetContext<R> = { ...common, partition: m.partition, inputs: m.inputs, input: inputAccessor(m.inputs), previous: previousOf(m) };
      return new Map([[m.partition, await def.runner.materialize(ctx)]]);
    }
    const union: Record<string, AssetInput> = {};
    for (const dep of graph.deps(def.key)) {
      const seen = new Map<PartitionKey, ConsumedPartition>();
      for (const m of members) for (const p of m.inputs[dep.inputName]!.partitions) if (!seen.has(p.partition)) seen.set(p.partition, p);
      union[dep.inputName] = await makeInput(instance, dep.asset, graph.get(dep.asset).io, [...seen.values()]);
    }
    const ctx: BatchContext<R> = {
      ...common,
      members: members.map((m) => ({ partition: m.partition, inputs: m.inputs, input: inputAccessor(m.inputs), previous: previousOf(m) })),
      inputs: union,
      input: inputAccessor(union),
    };
    return def.runner.policy.materialize(ctx);
  }

  const status: RunResult['status'] = signal.aborted ? 'canceled' : counts.failed + counts.blocked > 0 || runError ? 'failed' : 'succeeded';
  const durationMs = Date.now() - started;
  const error = runError ?? (failures.length > 0 ? `${failures.length} step${failures.length === 1 ? '' : 's'} failed or blocked` : signal.aborted ? 'canceled' : null);
  const finished: RunEvent = { type: 'run_finished', runId: options.runId, ts: Date.now(), status, durationMs, counts, error };
  clearInterval(flusher);
  emit(finished);
  await flush();
  try {
    await store.finishRun(options.runId, status, { ...counts }, error, Date.now());
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

/**
 * A view of the live store for one decision about `partitions` of `asset` (taken with their
 * leases held): their current versions and those of the upstream partitions they map to, read
 * in one go. An upstream consumed whole ("all") is read whole, as the decision lists its partitions.
 */
async function liveView(store: LineageStore, graph: AssetGraph<unknown>, mapper: StalenessResolver, asset: AssetKey, partitions: readonly PartitionKey[]): Promise<CurrentView> {
  const read = new Map<AssetKey, Map<PartitionKey, CurrentRecord>>();
  const whole = new Set<AssetKey>();
  const wanted = new Map<AssetKey, Set<PartitionKey>>([[asset, new Set(partitions)]]);
  for (const dep of graph.deps(asset)) {
    if (dep.mapping.kind === 'all' && graph.get(dep.asset).partitions) {
      whole.add(dep.asset);
      continue;
    }
    let keys = wanted.get(dep.asset);
    if (!keys) wanted.set(dep.asset, (keys = new Set()));
    for (const p of partitions) for (const k of mapper.expectedInputs(dep, p)) keys.add(k);
  }
  const snapshot = whole.size > 0 ? await store.snapshot([...whole]) : new Map<AssetKey, Map<PartitionKey, CurrentRecord>>();
  for (const a of whole) read.set(a, snapshot.get(a) ?? new Map());
  await Promise.all(
    [...wanted].filter(([a]) => !whole.has(a)).map(async ([a, keys]) => {
      const m = new Map<PartitionKey, CurrentRecord>();
      read.set(a, m);
      const list = [...keys];
      const records = await Promise.all(list.map((k) => store.current(a, k)));
      records.forEach((r, i) => {
        if (r) m.set(list[i]!, r);
      });
    }),
  );
  return {
    current: (a, p) => read.get(a)?.get(p),
    materializedPartitions: (a) => [...(read.get(a)?.keys() ?? [])],
  };
}

/** An input of a step: its consumed partitions, with their recorded metadata read up front (the asset's code reads it synchronously). */
async function makeInput(instance: Instance<unknown>, asset: AssetKey, io: AssetInput['io'], partitions: ConsumedPartition[]): Promise<AssetInput> {
  const metadataById = new Map(await Promise.all(partitions.map(async (p) => [p.materializationId, (await instance.store.materialization(p.materializationId))?.metadata ?? {}] as const)));
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
      return metadataById.get(p.materializationId) ?? {};
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
  /** The member's position in its step: names its files apart from the other members'. */
  index: number,
  duckdb: () => Promise<DuckDBConnection>,
  columnCache: Map<string, string[]>,
): Promise<{ path: string; metadata: Metadata }> {
  const fail = (what: string) =>
    new Error(`Asset ${def.key} (io: ${def.io}) returned ${what}; a ${def.io} asset returns ${def.io === 'json' ? '{ value }' : def.io === 'table' ? '{ sql } or { parquetFile }' : '{ file }'}.`);
  if (!output || typeof output !== 'object') throw fail(String(output));
  if (def.io === 'json') {
    if (!('value' in output)) throw fail(`{ ${Object.keys(output).join(', ')} }`);
    const path = join(tempDir, `${index}.value.json`);
    await writeFile(path, JSON.stringify(output.value as JsonValue));
    return { path, metadata: {} };
  }
  if (def.io === 'table') {
    const conn = await duckdb();
    if ('sql' in output) {
      const path = join(tempDir, `${index}.table.parquet`);
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
  const path = join(tempDir, `${index}.artifact.bin`);
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
