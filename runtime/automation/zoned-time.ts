// Wall-clock dates and times in a named zone (luxon), for deadlines such as "14:30
// America/New_York on day D-1" and for naming a due time's local day.
import { DateTime } from 'luxon';
import { RuntimeError } from '../errors.ts';
import type { ZonedTimeOfDay } from './types.ts';

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Throws a RuntimeError naming `what` unless `t` is HH:MM in a zone luxon knows. */
export function validateTimeOfDay(what: string, t: ZonedTimeOfDay): void {
  if (!HH_MM.test(t.at)) throw new RuntimeError('invalid-definition', `${what}: time ${JSON.stringify(t.at)} must be HH:MM (24-hour), e.g. "14:30".`);
  if (!DateTime.local().setZone(t.timezone).isValid) {
    throw new RuntimeError('invalid-definition', `${what}: time zone ${JSON.stringify(t.timezone)} is not an IANA zone; use one such as "America/New_York".`);
  }
}

/** The instant of `t.at` on the local day `day` (YYYY-MM-DD) in `t.timezone`. */
export function instantOn(day: string, t: ZonedTimeOfDay): number {
  const [h, m] = t.at.split(':').map(Number) as [number, number];
  const [y, mo, d] = day.split('-').map(Number) as [number, number, number];
  return DateTime.fromObject({ year: y, month: mo, day: d, hour: h, minute: m }, { zone: t.timezone }).toMillis();
}

/** The local day (YYYY-MM-DD) of an instant in `timezone`. */
export function localDay(ms: number, timezone: string): string {
  return DateTime.fromMillis(ms, { zone: timezone }).toISODate()!;
}

/** An instant as people read it in a zone: "2026-12-02 14:30 EST". */
export function formatLocal(ms: number, timezone: string): string {
  return DateTime.fromMillis(ms, { zone: timezone }).toFormat('yyyy-MM-dd HH:mm ZZZZ');
}
