// Sensors: functions the daemon calls at an interval, which look at the outside world and
// return run requests and a new cursor (what they have already seen). The cursor lives in
// the store, so it survives restarts. A sensor that throws or times out does not stop the
// tick: its failure is recorded in the tick, and its cursor is left as it was.
import { RuntimeError, errorMessage } from '../errors.ts';
import type { RunRequest } from './types.ts';

export interface SensorContext<R = unknown> {
  /** What the last successful evaluation returned as its cursor; undefined the first time. */
  readonly cursor: string | undefined;
  readonly now: Date;
  /** Aborted when the evaluation times out or the daemon stops. */
  readonly signal: AbortSignal;
  readonly resources: R;
}

export interface SensorResult {
  readonly runRequests: readonly RunRequest[];
  /** The new cursor; undefined keeps the old one. */
  readonly cursor?: string;
  /** Why nothing was requested, in words (shown in `materialize ticks`). */
  readonly skipReason?: string;
}

export interface Sensor<R = unknown> {
  readonly name: string;
  /** Minimum time between two evaluations. */
  readonly intervalMs: number;
  readonly description?: string;
  evaluate(ctx: SensorContext<R>): Promise<SensorResult> | SensorResult;
}

export type SensorOutcome = { readonly ok: true; readonly result: SensorResult } | { readonly ok: false; readonly error: string };

export function defineSensor<R>(s: Sensor<R>): Sensor<R> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s.name))
    throw new RuntimeError('invalid-definition', `Sensor name ${JSON.stringify(s.name)}: use letters, digits, "_", "." and "-".`);
  if (!Number.isFinite(s.intervalMs) || s.intervalMs < 1000)
    throw new RuntimeError('invalid-definition', `Sensor ${s.name}: intervalMs must be at least 1000, got ${s.intervalMs}.`);
  if (typeof s.evaluate !== 'function') throw new RuntimeError('invalid-definition', `Sensor ${s.name} has no evaluate(ctx) function.`);
  return s;
}

/** Whether a sensor last evaluated at `lastAt` (undefined: never) is due at `now`. */
export function sensorIsDue(sensor: Sensor<unknown>, lastAt: number | undefined, now: number): boolean {
  return lastAt === undefined || now - lastAt >= sensor.intervalMs;
}

/** Calls the sensor, turning a throw, a bad result or a timeout into a failure value. */
export async function runSensor<R>(sensor: Sensor<R>, ctx: Omit<SensorContext<R>, 'signal'>, timeoutMs: number, outer?: AbortSignal): Promise<SensorOutcome> {
  const controller = new AbortController();
  const onOuter = () => controller.abort();
  outer?.addEventListener('abort', onOuter);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<SensorOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ ok: false, error: `sensor ${sensor.name} did not answer within ${timeoutMs} ms` });
    }, timeoutMs);
  });
  try {
    const call = (async (): Promise<SensorOutcome> => {
      const result = await sensor.evaluate({ ...ctx, signal: controller.signal });
      const problem = resultProblem(result);
      return problem ? { ok: false, error: `sensor ${sensor.name} returned ${problem}` } : { ok: true, result };
    })().catch((err: unknown): SensorOutcome => ({ ok: false, error: `sensor ${sensor.name} failed: ${errorMessage(err)}` }));
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

function resultProblem(r: SensorResult | undefined): string | undefined {
  if (!r || !Array.isArray(r.runRequests)) return 'no { runRequests } object';
  for (const q of r.runRequests) {
    if (typeof q.selection !== 'string' || typeof q.dedupeKey !== 'string' || q.dedupeKey === '') return 'a run request without a selection or a dedupeKey';
  }
  if (r.cursor !== undefined && typeof r.cursor !== 'string') return 'a cursor that is not a string';
  return undefined;
}
