// "Running one unit, from lease to commit": for each of its steps, take the partition's lease
// (waiting while another run holds it), decide again against the live store whether the step
// is still needed (decision.ts), resolve its inputs, call the asset's code (once for a batch
// of partitions), write each output, run the checks, publish the file and commit the
// materialization with its provenance in one store transaction. Nothing is published for a
// step that failed, was blocked by a check, or was canceled. A step that fails hashes the
// input files it read: a bad one is marked corrupt in the store (the next run rewrites it) and
// named in the error. Retries follow the asset's policy.
import { readFile, rm } from 'node:fs/promises';
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
  Metadata,
  StepContextBase,
} from '../definitions.ts';
import { decideRun } from '../decision.ts';
import { borrowConnection, readParquetSql, returnConnection } from '../duckdb.ts';
import { errorMessage } from '../errors.ts';
import type { RunEvent } from '../events.ts';
import type { Instance } from '../instance.ts';
import { checkVersions, describeBadFile, type StoredVersion } from '../integrity.ts';
import { describePartition, type AssetKey, type PartitionKey } from '../keys.ts';
import { loggerFrom } from '../logger.ts';
import type { DynamicPartitionKeys } from '../partitions.ts';
import { describeCause, StalenessResolver } from '../staleness.ts';
import type { NewCheckResult } from '../store/lineage-store-api.ts';
import { assetRecordsOf } from '../store/asset-records.ts';
import type { RunTrigger } from '../store/records.ts';
import { dataVersionOfFile, type DataVersion } from '../versions.ts';
import { toStoredEvent, type RunRecorder } from './recorder.ts';
import { dedupeFiles, liveView, makeInput, resolveInputs, writeOutput, type ResolvedStep } from './step-io.ts';
import type { StepState, Unit } from './units.ts';

export type Outcome = 'materialized' | 'skipped' | 'failed' | 'blocked' | 'canceled';

export interface StepResult {
  readonly outcome: Outcome;
  /** Why it was skipped: the first upstream step that failed or was blocked (transitively). */
  readonly failedUpstream?: string;
}

/** A member written and checked, its file not yet published. */
interface ReadyMember {
  readonly member: ResolvedStep;
  readonly path: string;
  readonly dataVersion: DataVersion;
  readonly metadata: Metadata;
  readonly checkResults: readonly NewCheckResult[];
}

/** What every unit of one run shares. */
export interface UnitContext<R> {
  readonly instance: Instance<R>;
  readonly options: {
    readonly runId: string;
    readonly trigger: RunTrigger;
    readonly force: boolean;
    readonly now: Date;
    readonly leaseTtlMs: number;
    readonly signal: AbortSignal;
    /**
     * Who holds the partitions' leases: the run (in-process, the default) or one worker's claim of
     * the unit (`run@host:pid#attempt`), so a retry by another worker waits for a killed one's
     * lease to expire, and its commits are fenced by that lease.
     */
    readonly leaseHolder?: string;
    /** The worker running the unit, named on step_started. */
    readonly worker?: { readonly host: string; readonly pid: number };
  };
  readonly recorder: RunRecorder;
  readonly states: ReadonlyMap<string, StepState>;
  /** Every step's result, as it ends: a step's dependents read it (failed upstream: skipped). */
  readonly results: Map<string, StepResult>;
  /** Dynamic partition keys as the run started: a key added during the run waits for the next one. */
  readonly dynamic: DynamicPartitionKeys;
  /** Maps partitions between assets (no store behind it). */
  readonly mapper: StalenessResolver;
}

export class CanceledError extends Error {}

/** The function that runs one unit of the run in this process; every step of it ends with a result. */
export function unitRunner<R>(ctx: UnitContext<R>): (unit: Unit) => Promise<void> {
  const { instance, options, recorder, states, results, dynamic } = ctx;
  const { store, graph } = instance;
  const { counts, failures } = recorder;
  const { signal, leaseTtlMs } = options;
  const holder = options.leaseHolder ?? options.runId;
  const fence = options.leaseHolder === undefined ? {} : { leaseHolder: options.leaseHolder };
  const planResolver = ctx.mapper;
  const emit = (event: RunEvent, persist = true): void => recorder.emit(event, persist);
  const stopRun = (message: string): boolean => recorder.stopRun(message);
  const describeProblem = (err: unknown, writing?: string): string | undefined => recorder.describeProblem(err, writing);
  // The columns of a SQL table asset are the same for each partition a run writes
  // (same code, same query shape): read them once per asset, not once per partition.
  const columnCache = new Map<string, string[]>();

  /** Why a step cannot run because of its upstream steps' results, or undefined when it can. */
  const failedUpstreamOf = (state: StepState): string | undefined => {
    let canceled: string | undefined;
    let inherited: string | undefined;
    for (const u of state.upstream) {
      const r = results.get(u);
      if (!r) continue;
      const { asset, partition } = states.get(u)!.step;
      if (r.outcome === 'failed' || r.outcome === 'blocked')
        return describePartition(asset, partition) + (r.outcome === 'blocked' ? ' was blocked by a failed check' : ' failed');
      if (r.failedUpstream) inherited ??= r.failedUpstream;
      else if (r.outcome === 'canceled') canceled ??= describePartition(asset, partition) + ' was canceled';
    }
    return inherited ?? canceled;
  };

  /** Runs a unit's steps (one, or a batch asset's group); every step ends with a result. */
  async function runUnit(unit: Unit): Promise<void> {
    const def = graph.get(unit.asset);
    const startable: StepState[] = [];
    for (const s of unit.steps) {
      const base = baseOf(s);
      if (recorder.fatal !== undefined) {
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
      const view = await liveView(
        store,
        graph,
        planResolver,
        unit.asset,
        leased.map((s) => s.step.partition),
      );
      const live = new StalenessResolver(graph, view, options.now, { shallow: true, dynamic });
      const members: ResolvedStep[] = [];
      for (const s of leased) {
        if (committedByEarlierAttempt(def, s, live)) {
          // A worker of this run committed it, then lost its claim before reporting (stalled past
          // the claim's lease): the run did materialize it, once. Count it so, without a second
          // step_materialized (the committing attempt recorded that, with the commit).
          counts.materialized++;
          emit({
            ...baseOf(s),
            ts: Date.now(),
            type: 'log',
            level: 'info',
            message: `already committed by an earlier attempt of run ${options.runId} (its worker lost the claim before reporting); not run again`,
          });
          results.set(s.id, { outcome: 'materialized' });
          continue;
        }
        const skip = stillNeeded(def, s, live);
        if (skip !== undefined) {
          counts.skipped++;
          emit({ ...baseOf(s), ts: Date.now(), type: 'step_skipped', reason: skip });
          results.set(s.id, { outcome: 'skipped' });
          continue;
        }
        const resolved = await resolveInputs(instance, def, s, live, view);
        if ('error' in resolved) {
          failStep(s, resolved.error, 0);
          continue;
        }
        members.push(resolved);
      }
      if (members.length > 0) await materializeMembers(def, members);
    } finally {
      await Promise.all(leased.map((s) => store.releaseLease(s.step.asset, s.step.partition, holder)));
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
      const lease = await store.tryAcquireLease(s.step.asset, s.step.partition, holder, Date.now(), leaseTtlMs);
      if (lease.acquired) return true;
      if (!waitingAnnounced) {
        emit({ ...baseOf(s), ts: Date.now(), type: 'step_waiting', holder: lease.holder });
        waitingAnnounced = true;
      }
      if (!(await sleep(200, signal))) return false;
    }
  }

  /** A retried worker unit whose step this very run already committed (only workers retry a unit under one run id). */
  function committedByEarlierAttempt(def: AssetDefinition<R>, s: StepState, live: StalenessResolver): boolean {
    if (options.leaseHolder === undefined || s.step.action !== 'run') return false;
    const decision = decideRun(def, s.step.partition, live.status(def.key, s.step.partition), { now: options.now, dynamic, force: false });
    return !decision.run && decision.status.status === 'FRESH' && decision.status.current?.runId === options.runId;
  }

  /**
   * The live re-check, with the lease held: why the step need not run after all (fresh, made
   * meanwhile by another run, still waiting on upstream), or undefined when it must. The same
   * decision the planner made (decision.ts), against the store as it is now.
   */
  function stillNeeded(def: AssetDefinition<R>, s: StepState, live: StalenessResolver): string | undefined {
    const decision = decideRun(def, s.step.partition, live.status(def.key, s.step.partition), { now: options.now, dynamic, force: options.force });
    if (decision.run) return undefined;
    const st = decision.status;
    return st.current && st.current.runId !== options.runId && s.step.action === 'run'
      ? `materialized meanwhile by run ${st.current.runId}`
      : st.status === 'FRESH'
        ? s.step.action === 'conditional'
          ? 'fresh: upstream data did not change'
          : 'fresh'
        : `waiting on upstream: ${st.causes.map(describeCause).join('; ')}`;
  }

  /** Calls the asset's code once for `members` and publishes each member's output; retries the call per the asset's policy. */
  async function materializeMembers(def: AssetDefinition<R>, members: readonly ResolvedStep[]): Promise<void> {
    const asset = def.key;
    const first = members[0]!;
    const stepStarted = Date.now();
    let attempt = 0;
    for (;;) {
      attempt++;
      for (const m of members)
        emit({ ...baseOf(m.state), ts: Date.now(), type: 'step_started', attempt, ...(options.worker ? { worker: options.worker } : {}) });
      const label = members.length === 1 ? first.partition : `${first.partition}+${members.length - 1}`;
      const tempDir = await instance.storage.makeTempDir(`${options.runId}-${asset}-${label}`);
      let conn: DuckDBConnection | undefined;
      const duckdb = async () => (conn ??= await borrowConnection());
      // A batch logs under its first partition; its messages are about the whole batch.
      const log = loggerFrom((level, message, data) =>
        emit({ ...baseOf(first.state), ts: Date.now(), type: 'log', level, message, ...(data ? { data } : {}) }),
      );
      const common = {
        asset,
        runId: options.runId,
        resources: instance.definitions.resources,
        log,
        signal,
        tempDir,
        forced: options.force,
        duckdb,
        records: assetRecordsOf(instance.store),
      };
      try {
        const outputs = await callAssetCode(def, members, common);
        if (signal.aborted) throw new CanceledError();
        // Each member's output is written and checked in turn (they share the step's DuckDB
        // connection); then the files of those that passed are published at once (see publishAll).
        const ready: ReadyMember[] = [];
        for (const [index, m] of members.entries()) {
          const prepared = await prepareMember(def, m, outputs.get(m.partition), index, { ...common, partition: m.partition }, stepStarted);
          if ('outcome' in prepared) results.set(m.state.id, { outcome: prepared.outcome });
          else ready.push(prepared);
        }
        for (const [m, outcome] of await publishAll(def, ready, stepStarted)) results.set(m.state.id, { outcome });
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
        const { message, bad } = await describeFailure(
          asset,
          err,
          members.flatMap((m) => m.consumedFiles),
        );
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

  /**
   * Writes one member's output and runs its checks: a member that failed, or was blocked by a
   * check (recorded here), has its outcome; one ready to publish is returned for publishAll.
   */
  async function prepareMember(
    def: AssetDefinition<R>,
    m: ResolvedStep,
    output: BatchOutput | undefined,
    index: number,
    common: Omit<CheckContext<R>, 'output'>,
    stepStarted: number,
  ): Promise<ReadyMember | { outcome: Outcome }> {
    const asset = def.key;
    const { partition } = m;
    const base = baseOf(m.state);
    if (output === undefined) {
      failStep(
        m.state,
        `the batch function of ${asset} returned no output for partition ${partition}; it must return one for each member.`,
        Date.now() - stepStarted,
      );
      return { outcome: 'failed' };
    }
    if ('error' in output) {
      failStep(m.state, (await describeFailure(asset, output.error, m.consumedFiles)).message, Date.now() - stepStarted);
      return { outcome: 'failed' };
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
      if (blockers.length > 0) {
        const endedAt = Date.now();
        const message = blockers.map((b) => `${b.name}: ${b.message}`).join('; ');
        const event: RunEvent = { ...base, ts: endedAt, type: 'step_blocked', failedChecks: blockers.map((b) => b.name), message };
        await store.commitMaterialization({
          asset,
          partition,
          runId: options.runId,
          status: 'blocked',
          codeVersion: def.codeVersion,
          dataVersion,
          location: null,
          metadata,
          startedAt: stepStarted,
          endedAt,
          inputs: m.consumed,
          checks: checkResults,
          events: [toStoredEvent(event)],
          logEvents: await recorder.takePending(),
          ...fence,
        });
        emit(event, false);
        counts.blocked++;
        failures.push({ asset, partition, error: `blocked by check ${message}` });
        return { outcome: 'blocked' };
      }
      return { member: m, path: written.path, dataVersion, metadata, checkResults };
    } catch (err) {
      return { outcome: memberFailed(def, m, err, stepStarted) };
    }
  }

  /**
   * Publishes the files of the ready members at once, then commits each, in order. A
   * published file is fsynced, renamed and its directory fsynced: one after the other that was
   * ~7 ms a file on this machine's disk, ~1 ms when a batch's members overlap (the journal
   * commits them together) — most of what a partition of a cheap asset cost. Nothing is
   * committed before its own file is durable, so a crash still leaves a member's previous
   * version current; one member's failure is that member's alone.
   */
  async function publishAll(def: AssetDefinition<R>, ready: readonly ReadyMember[], stepStarted: number): Promise<Array<[ResolvedStep, Outcome]>> {
    const asset = def.key;
    const published = await Promise.allSettled(
      ready.map((r) => instance.storage.publish({ tempPath: r.path, asset, partition: r.member.partition, dataVersion: r.dataVersion, io: def.io })),
    );
    const out: Array<[ResolvedStep, Outcome]> = [];
    for (const [i, r] of ready.entries()) {
      const m = r.member;
      const p = published[i]!;
      try {
        if (p.status === 'rejected') throw p.reason;
        if (signal.aborted) throw new CanceledError();
        const location = p.value;
        const endedAt = Date.now();
        const unchanged = m.previous?.dataVersion === r.dataVersion;
        const repaired = m.previous?.corrupt === true;
        const event: RunEvent = {
          ...baseOf(m.state),
          ts: endedAt,
          type: 'step_materialized',
          dataVersion: r.dataVersion,
          unchanged,
          ...(repaired ? { repaired } : {}),
          durationMs: endedAt - stepStarted,
          metadata: r.metadata,
        };
        await store.commitMaterialization({
          asset,
          partition: m.partition,
          runId: options.runId,
          status: 'published',
          codeVersion: def.codeVersion,
          dataVersion: r.dataVersion,
          location,
          metadata: r.metadata,
          startedAt: stepStarted,
          endedAt,
          inputs: m.consumed,
          checks: r.checkResults,
          events: [toStoredEvent(event)],
          logEvents: await recorder.takePending(),
          ...fence,
        });
        emit(event, false);
        counts.materialized++;
        if (unchanged) counts.unchanged++;
        out.push([m, 'materialized']);
      } catch (err) {
        out.push([m, memberFailed(def, m, err, stepStarted)]);
      }
    }
    return out;
  }

  /** A member's error after its code ran: canceled, the run stopped (a full disk), or this member failed. */
  function memberFailed(def: AssetDefinition<R>, m: ResolvedStep, err: unknown, stepStarted: number): Outcome {
    const asset = def.key;
    const { partition } = m;
    if (err instanceof CanceledError || signal.aborted) {
      cancelStep(m.state, 'run canceled; nothing was published');
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
      emit({ ...baseOf(m.state), ts: Date.now(), type: 'step_failed', error: errorMessage(err), durationMs: Date.now() - stepStarted });
      return 'failed';
    }
    failStep(m.state, errorMessage(err), Date.now() - stepStarted);
    return 'failed';
  }

  /** Runs the asset's code for `members`: `materialize(ctx)` for the one member of a single-partition asset, the batch function otherwise. */
  async function callAssetCode(
    def: AssetDefinition<R>,
    members: readonly ResolvedStep[],
    common: Omit<StepContextBase<R>, 'partition'>,
  ): Promise<ReadonlyMap<PartitionKey, BatchOutput>> {
    const inputAccessor = (inputs: Readonly<Record<string, AssetInput>>) => (name: string) => {
      const i = inputs[name];
      if (!i) throw new Error(`Asset ${def.key} has no input named "${name}"; its inputs are: ${Object.keys(inputs).join(', ') || 'none'}.`);
      return i;
    };
    const previousOf = (m: ResolvedStep) => m.previous && { dataVersion: m.previous.dataVersion, metadata: m.previous.metadata };
    if (def.runner.kind === 'single') {
      const m = members[0]!;
      if (members.length !== 1)
        throw new Error(`Internal error: ${members.length} partitions of ${def.key} grouped into one step, but it has no batch policy.`);
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

  return runUnit;
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
