// How the rows of runs and events become records, for both stores (SQLite and PostgreSQL
// hold the same columns). The columns that hold a closed set of values (a run's status and
// trigger, an event's type and level) are checked on the way in: a row another build wrote
// fails here, naming the table, the row and the field, instead of rendering as nonsense later.
import type { JsonValue } from '../definitions.ts';
import { RuntimeError } from '../errors.ts';
import { RUN_EVENT_TYPES, type RunEvent, type RunEventType } from '../events.ts';
import { assetKey } from '../keys.ts';
import { LOG_LEVELS, type LogLevel } from '../logger.ts';
import { RUN_STATUSES, RUN_TRIGGERS, type EventRecord, type RunRecord, type RunStatus, type RunTrigger } from './records.ts';

export interface RunRow {
  id: string;
  selection: string;
  partitions: string | null;
  status: string;
  trigger: string;
  host: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
  ended_at: number | null;
  summary: string | null;
  error: string | null;
}

export interface EventRow {
  id: number;
  run_id: string;
  ts: number;
  level: string;
  type: string;
  asset: string | null;
  partition: string | null;
  message: string;
  data: string | null;
}

/** `value` when it is one of `allowed`; otherwise an error naming where it was read. */
export function oneOf<T extends string>(allowed: readonly T[], value: string, where: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new RuntimeError(
    'store-record',
    `${where} is ${JSON.stringify(value)}, which is not one of ${allowed.join(', ')}. ` +
      'The row was written by a different version of the runtime: run this store with the version that wrote it, or prune the row (`materialize prune`).',
  );
}

export const runTrigger = (value: string, where: string): RunTrigger => oneOf<RunTrigger>(RUN_TRIGGERS, value, where);

export function runFromRow(r: RunRow): RunRecord {
  return {
    id: r.id,
    selection: r.selection,
    partitions: r.partitions,
    status: oneOf<RunStatus>(RUN_STATUSES, r.status, `The status of run ${r.id}`),
    trigger: runTrigger(r.trigger, `The trigger of run ${r.id}`),
    host: r.host,
    pid: r.pid,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    endedAt: r.ended_at,
    summary: r.summary === null ? null : (JSON.parse(r.summary) as Record<string, JsonValue>),
    error: r.error,
  };
}

export function eventFromRow(r: EventRow): EventRecord {
  const where = `event ${r.id} of run ${r.run_id}`;
  return {
    id: r.id,
    runId: r.run_id,
    ts: r.ts,
    level: oneOf<LogLevel>(LOG_LEVELS, r.level, `The level of ${where}`),
    type: oneOf<RunEventType>(RUN_EVENT_TYPES, r.type, `The type of ${where}`),
    asset: r.asset,
    partition: r.partition,
    message: r.message,
    data: r.data === null ? null : (JSON.parse(r.data) as Record<string, JsonValue>),
  };
}

/**
 * The typed event a stored record was written from (the executor stores an event's fields
 * less its run, time and type as `data`, and its asset and partition as columns too).
 * `run_started` of a log that lacks its per-asset counts (`assets`) folds as planning none
 * per asset: the counts are for the live view, the totals are in `planned`.
 */
export function runEventFromRecord(r: EventRecord): RunEvent {
  const data: Record<string, unknown> = { ...(r.data ?? {}) };
  if (r.asset !== null) data.asset = assetKey(r.asset);
  if (r.partition !== null) data.partition = r.partition;
  if (r.type === 'run_started') {
    const planned = (data.planned ?? {}) as Record<string, unknown>;
    data.planned = { run: Number(planned.run ?? 0), conditional: Number(planned.conditional ?? 0), skip: Number(planned.skip ?? 0) };
    if (!Array.isArray(data.assets)) data.assets = [];
  }
  if (r.type === 'log') data.level = r.level;
  return { ...data, runId: r.runId, ts: r.ts, type: r.type } as RunEvent;
}
