// Cron lines in a named time zone (croner): the due times between two instants. Croner does
// the calendar work in the zone, so a 14:30 America/New_York line is due at 18:30 UTC in
// summer and 19:30 UTC in winter; a time skipped by a spring-forward change runs at the
// first valid minute after it, and one repeated by a fall-back change runs once.
import { Cron } from 'croner';
import { RuntimeError } from '../errors.ts';

/** A parsed cron line in its zone; throws a RuntimeError naming `what` when either is invalid. */
export function parseCron(what: string, cron: string, timezone: string): Cron {
  let c: Cron;
  try {
    c = new Cron(cron, { timezone, paused: true });
    // Croner checks the zone only when it first computes a date.
    c.nextRun(new Date(0));
  } catch (err) {
    throw new RuntimeError(
      'invalid-definition',
      `${what}: cron ${JSON.stringify(cron)} in time zone ${JSON.stringify(timezone)} is invalid (${(err as Error).message}). Write five fields (minute hour day month weekday) and an IANA zone such as "America/New_York".`,
    );
  }
  return c;
}

/**
 * Due times `t` with `after < t <= upTo`, oldest first, at most `limit` of them (a daemon
 * that was down for a year must not launch a year of runs: the caller says how many).
 */
export function dueTimesBetween(cron: Cron, after: Date, upTo: Date, limit: number): Date[] {
  const out: Date[] = [];
  let t: Date | null = after;
  while (out.length < limit) {
    t = cron.nextRun(t);
    if (!t || t.getTime() > upTo.getTime()) break;
    out.push(t);
  }
  return out;
}
