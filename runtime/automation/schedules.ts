// "Which schedules are due, and what do they request": pure over a schedule, the cursor
// the store keeps for it (the last instant already handled) and the time of the tick. The
// cursor moves to the tick's time, so a restarted daemon never requests a due time twice;
// due times older than the catch-up window (a daemon that was down) are skipped with a reason.
import type { Schedule } from '../definitions.ts';
import { parseCron, dueTimesBetween } from './cron.ts';
import type { RunRequest, SkipReason } from './types.ts';
import { addDays } from '../../lib/days.ts';
import { formatLocal, localDay } from './zoned-time.ts';

export const DEFAULT_TIMEZONE = 'UTC';
/** At most this many due times are handled per schedule and tick (the rest are skipped as missed). */
const MAX_DUE_PER_TICK = 100;

export interface ScheduleEvaluation {
  readonly requests: RunRequest[];
  readonly skipped: SkipReason[];
  /** The due times considered, as ISO instants. */
  readonly evaluated: string[];
  /** The new cursor: the tick's time as an ISO instant. */
  readonly cursor: string;
}

/** Throws a RuntimeError naming the schedule when its cron line or zone is invalid. */
export function validateSchedule(s: Schedule): void {
  parseCron(`Schedule ${s.name}`, s.cron, s.timezone ?? DEFAULT_TIMEZONE);
}

/**
 * Due times in (cursor, now]; without a cursor (first tick ever) those within the catch-up
 * window, so a CronJob pod that starts a few seconds after its minute still fires. A schedule
 * without `partitionDay` requests one run for the latest of them; one with it, a run per
 * due time (each names its own day).
 */
export function evaluateSchedule(s: Schedule, cursor: string | undefined, now: Date, catchUpMs: number): ScheduleEvaluation {
  const tz = s.timezone ?? DEFAULT_TIMEZONE;
  const cron = parseCron(`Schedule ${s.name}`, s.cron, tz);
  const windowStart = now.getTime() - catchUpMs;
  const after = new Date(cursor === undefined ? windowStart : Math.min(Date.parse(cursor), now.getTime()));
  const due = dueTimesBetween(cron, after, now, MAX_DUE_PER_TICK);
  const requests: RunRequest[] = [];
  const skipped: SkipReason[] = [];
  const latest = due.at(-1);
  const superseded: string[] = [];
  for (const t of due) {
    const at = formatLocal(t.getTime(), tz);
    if (t.getTime() < windowStart) {
      skipped.push({
        subject: s.name,
        reason: `missed the run due at ${at}: it is more than ${Math.round(catchUpMs / 60_000)} min before this tick (was the daemon down?)`,
      });
      continue;
    }
    // Without a partition per due time, several due times since the last tick ask for the same
    // run: the latest one stands for them all (said once, below).
    if (s.partitionDay === undefined && t !== latest) {
      superseded.push(at);
      continue;
    }
    const partitions = s.partitionDay === undefined ? undefined : [addDays(localDay(t.getTime(), tz), s.partitionDay)];
    requests.push({
      selection: s.selection,
      ...(partitions ? { partitions } : {}),
      dedupeKey: `schedule:${s.name}:${t.toISOString()}`,
      reason: `schedule ${s.name} due at ${at}${partitions ? ` for partition ${partitions[0]}` : ''}`,
      ...(s.force ? { force: true } : {}),
    });
  }
  if (superseded.length > 0) {
    skipped.push({
      subject: s.name,
      reason: `${superseded.length} earlier due time(s) since the last tick (${superseded[0]}${superseded.length > 1 ? ` to ${superseded.at(-1)}` : ''}) are covered by the run due at ${formatLocal(latest!.getTime(), tz)}`,
    });
  }
  return { requests, skipped, evaluated: due.map((t) => t.toISOString()), cursor: now.toISOString() };
}
