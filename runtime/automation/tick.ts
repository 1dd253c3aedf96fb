// One automation tick, the effectful side of runtime/automation: read the store once (cursors,
// current versions), evaluate every schedule, due sensor and asset policy, claim each run
// request's dedupe key in the store (whoever claims first starts it; everyone else records
// a duplicate), prepare the claimed runs, record the tick rows and the new cursors in one
// transaction, then run them through the store's run queue (behind the runs the UI, the API
// and the CLI asked for first, under the same limits) and the ordinary materialize path. `materialize tick` is one
// call of this; `materialize daemon` calls it in a loop.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors.ts';
import type { RunResult } from '../executor.ts';
import type { Instance } from '../instance.ts';
import { newRunId, prepareRun, type MaterializeRequest, type PreparedRun } from '../materialize.ts';
import { RunQueue } from '../queue/run-queue.ts';
import { RUN_QUEUE_DEFAULTS, type RunQueueSettings } from '../settings.ts';
import { snapshotView, StalenessResolver } from '../staleness.ts';
import type { RunTrigger } from '../store/records.ts';
import type { CursorUpdate, NewTick, RequestedRun, TickKind } from '../store/tick-records.ts';
import { evaluatePolicies } from './policies.ts';
import { evaluateSchedule } from './schedules.ts';
import { runSensor, sensorIsDue } from './sensors.ts';
import type { RunRequest, SkipReason } from './types.ts';

export const DEFAULT_CATCH_UP_MS = 60 * 60_000;
export const DEFAULT_SENSOR_TIMEOUT_MS = 60_000;
/**
 * A claimed request whose run failed is requested again on later ticks, at most this many times:
 * retry n claims the key `<dedupeKey>#retry-n` the same way (once, whichever daemon asks first).
 */
export const MAX_REQUEST_RETRIES = 2;
/** The tick row of the asset policies' pass. */
export const POLICY_TICK_NAME = 'automation';

export interface TickOptions {
  /** Who is ticking, recorded with each row and claim ("host:pid:random" by default). */
  readonly daemonId?: string;
  /** The tick's clock; default the real one. Tests fix it. */
  readonly now?: Date;
  readonly catchUpMs?: number;
  readonly sensorTimeoutMs?: number;
  /** Aborts the sensors being evaluated and the runs being executed. */
  readonly signal?: AbortSignal;
  readonly concurrency?: number;
  /** Evaluate and record, but do not execute the runs (they stay claimed): for the benchmark. */
  readonly execute?: boolean;
  /** The run queue's limits (RUN_QUEUE_MAX_CONCURRENT, RUN_QUEUE_POOL_LIMITS); default RUN_QUEUE_DEFAULTS. */
  readonly queue?: RunQueueSettings;
  /** Called before each run starts and after it ends. */
  readonly onRun?: (
    event: { readonly phase: 'start'; readonly runId: string; readonly request: RunRequest } | { readonly phase: 'end'; readonly result: RunResult },
  ) => void;
}

export interface TickResult {
  readonly ticks: readonly NewTick[];
  readonly runs: readonly RunResult[];
  /** Store writes the tick made (claims and the one tick transaction), not counting the runs'. */
  readonly storeWrites: number;
}

export function newDaemonId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(2).toString('hex')}`;
}

const cursorName = (kind: TickKind, name: string): string => `${kind}:${name}`;
const TRIGGER: Record<TickKind, RunTrigger> = { schedule: 'schedule', sensor: 'sensor', policy: 'automation' };

interface Evaluated {
  readonly kind: TickKind;
  readonly name: string;
  readonly startedAt: number;
  readonly evaluated: readonly string[];
  readonly requests: readonly RunRequest[];
  readonly skipped: readonly SkipReason[];
  readonly cursor: string | null;
  readonly error: string | null;
}

type Attempt =
  | { readonly kind: 'claimed'; readonly writes: number; readonly detail?: string }
  | { readonly kind: 'duplicate' | 'exhausted'; readonly writes: number; readonly runId: string; readonly detail: string };

/**
 * Claims a request's key; when it was claimed before and that run failed, claims the next retry's
 * key instead (up to MAX_REQUEST_RETRIES). A run still running, or one that succeeded or was
 * canceled, makes the request a duplicate.
 */
async function claimAttempt(store: Instance<unknown>['store'], dedupeKey: string, daemonId: string, runId: string, now: number): Promise<Attempt> {
  let writes = 0;
  let failedRun: string | undefined;
  for (let n = 0; n <= MAX_REQUEST_RETRIES; n++) {
    const key = n === 0 ? dedupeKey : `${dedupeKey}#retry-${n}`;
    writes++;
    const claim = await store.claimRunRequest(key, daemonId, runId, now);
    if (claim.claimed) return { kind: 'claimed', writes, ...(failedRun ? { detail: `retry ${n} of ${MAX_REQUEST_RETRIES}: run ${failedRun} failed` } : {}) };
    const earlier = await store.getRun(claim.runId);
    // Not recorded yet (just claimed), running, succeeded or canceled: that claim stands.
    if (earlier?.status !== 'failed') {
      return {
        kind: 'duplicate',
        writes,
        runId: claim.runId,
        detail: `already requested by ${claim.daemonId} at ${new Date(claim.claimedAt).toISOString()}${n > 0 ? ` (retry ${n})` : ''}`,
      };
    }
    failedRun = claim.runId;
  }
  return {
    kind: 'exhausted',
    writes,
    runId: failedRun!,
    detail: `its run failed ${MAX_REQUEST_RETRIES + 1} times (last: run ${failedRun}); not requested again`,
  };
}

export async function runTick(instance: Instance<unknown>, options: TickOptions = {}): Promise<TickResult> {
  const now = options.now ?? new Date();
  const nowMs = now.getTime();
  const daemonId = options.daemonId ?? newDaemonId();
  const catchUpMs = options.catchUpMs ?? DEFAULT_CATCH_UP_MS;
  const store = instance.store;
  const [cursors, snapshot, dynamic] = await Promise.all([store.automationCursors(), store.snapshot(), store.dynamicPartitionKeys()]);
  const evaluations: Evaluated[] = [];
  const cursorUpdates: CursorUpdate[] = [];

  for (const s of instance.definitions.schedules) {
    const name = cursorName('schedule', s.name);
    const e = evaluateSchedule(s, cursors.get(name)?.cursor ?? undefined, now, catchUpMs);
    cursorUpdates.push({ name, cursor: e.cursor, evaluatedAt: nowMs });
    // A schedule with nothing due says nothing: a tick row per schedule per tick would be noise.
    if (e.evaluated.length > 0)
      evaluations.push({
        kind: 'schedule',
        name: s.name,
        startedAt: nowMs,
        evaluated: e.evaluated,
        requests: e.requests,
        skipped: e.skipped,
        cursor: e.cursor,
        error: null,
      });
  }

  for (const sensor of instance.definitions.sensors) {
    const name = cursorName('sensor', sensor.name);
    const stored = cursors.get(name);
    if (!sensorIsDue(sensor, stored?.evaluatedAt, nowMs)) continue;
    const startedAt = Date.now();
    const outcome = await runSensor(
      sensor,
      { cursor: stored?.cursor ?? undefined, now, resources: instance.definitions.resources },
      options.sensorTimeoutMs ?? DEFAULT_SENSOR_TIMEOUT_MS,
      options.signal,
    );
    // A failed evaluation keeps its cursor (what it saw is unknown) but waits its interval too.
    const cursor = outcome.ok ? (outcome.result.cursor ?? stored?.cursor ?? null) : (stored?.cursor ?? null);
    cursorUpdates.push({ name, cursor, evaluatedAt: nowMs });
    evaluations.push({
      kind: 'sensor',
      name: sensor.name,
      startedAt,
      evaluated: [sensor.name],
      requests: outcome.ok ? outcome.result.runRequests : [],
      skipped: outcome.ok && outcome.result.skipReason ? [{ subject: sensor.name, reason: outcome.result.skipReason }] : [],
      cursor,
      error: outcome.ok ? null : outcome.error,
    });
  }

  const view = snapshotView(snapshot);
  const policyInput = { graph: instance.graph, resolver: new StalenessResolver(instance.graph, view, now, { dynamic }), view, now, catchUpMs };
  const policyCursors = new Map([...cursors].filter(([k]) => k.startsWith('policy:')).map(([k, v]) => [k, v.cursor ?? undefined]));
  const p = evaluatePolicies({ ...policyInput, cursors: policyCursors });
  for (const [name, cursor] of p.cursors) cursorUpdates.push({ name, cursor, evaluatedAt: nowMs });
  if (p.evaluated.length > 0) {
    evaluations.push({
      kind: 'policy',
      name: POLICY_TICK_NAME,
      startedAt: nowMs,
      evaluated: p.evaluated,
      requests: p.requests,
      skipped: p.skipped.slice(0, 100),
      cursor: null,
      error: null,
    });
  }

  // Claim, then prepare: a request whose key another daemon (or an earlier tick) claimed is a duplicate.
  let storeWrites = 1;
  const toRun: { prepared: PreparedRun; req: MaterializeRequest; request: RunRequest }[] = [];
  const ticks: NewTick[] = [];
  for (const e of evaluations) {
    const requested: RequestedRun[] = [];
    for (const r of e.requests) {
      const runId = newRunId(now);
      const attempt = await claimAttempt(store, r.dedupeKey, daemonId, runId, nowMs);
      storeWrites += attempt.writes;
      if (attempt.kind !== 'claimed') {
        requested.push({ ...r, outcome: attempt.kind, runId: attempt.runId, detail: attempt.detail });
        continue;
      }
      const retryDetail = attempt.detail ? { detail: attempt.detail } : {};
      const req: MaterializeRequest = {
        selection: r.selection,
        ...(r.partitions && r.partitions.length > 0 ? { partitions: r.partitions.join(',') } : {}),
        force: r.force ?? false,
        trigger: TRIGGER[e.kind],
        concurrency: options.concurrency,
        runId,
        now,
      };
      try {
        toRun.push({ prepared: await prepareRun(instance, req), req, request: r });
        requested.push({ ...r, outcome: 'launched', runId, ...retryDetail });
      } catch (err) {
        requested.push({ ...r, outcome: 'invalid', runId: null, detail: errorMessage(err) });
      }
    }
    ticks.push({
      daemonId,
      startedAt: e.startedAt,
      endedAt: Date.now(),
      kind: e.kind,
      name: e.name,
      evaluated: e.evaluated,
      requested,
      skipped: e.skipped,
      cursor: e.cursor,
      error: e.error,
    });
  }
  await store.recordTicks(ticks, cursorUpdates);

  const runs: RunResult[] = [];
  if (options.execute !== false) {
    const queue = new RunQueue(instance, options.queue ?? RUN_QUEUE_DEFAULTS, { claimer: daemonId });
    // All queued at once, in request order, so they keep their place in the queue; then run one by one.
    for (const { prepared, req } of toRun) await queue.enqueue(prepared, { ...req, trigger: req.trigger ?? 'automation' });
    for (const { prepared, req, request } of toRun) {
      options.onRun?.({ phase: 'start', runId: prepared.runId, request });
      const outcome = await queue.runQueued(prepared, { ...req, trigger: req.trigger ?? 'automation' }, { signal: options.signal });
      if (outcome.kind === 'canceled') continue;
      options.onRun?.({ phase: 'end', result: outcome.result });
      runs.push(outcome.result);
    }
  }
  return { ticks, runs, storeWrites };
}
