// From the 24-hour EPT grid back to real hours: the UTC hours of an EPT delivery day with the
// grid hour each one takes its value from. A spring-forward day has 23 (grid 02:00 has no real
// hour), a fall-back day 25 (both 01:00 hours take grid 01:00).
import { DateTime } from 'luxon';
import { EPT_ZONE } from '../features/sql.ts';

export interface RealHour {
  /** Start of the hour in UTC, ISO 8601 with Z. */
  readonly tsUtc: string;
  /** The same instant in EPT wall-clock time with its offset, e.g. `2018-11-04T01:00:00-05:00`. */
  readonly tsEpt: string;
  /** Grid hour 0-23 whose value this hour gets. */
  readonly gridHour: number;
}

/** The real hours of an EPT delivery day `day` (YYYY-MM-DD), in time order. */
export function realHoursOfDay(day: string): RealHour[] {
  const start = DateTime.fromISO(day, { zone: EPT_ZONE }).startOf('day');
  if (!start.isValid) throw new Error(`realHoursOfDay: ${JSON.stringify(day)} is not a YYYY-MM-DD date.`);
  const end = start.plus({ days: 1 }).startOf('day');
  const hours: RealHour[] = [];
  for (let t = start.toUTC(); t < end; t = t.plus({ hours: 1 })) {
    const local = t.setZone(EPT_ZONE);
    hours.push({ tsUtc: t.toISO({ suppressMilliseconds: true })!, tsEpt: local.toISO({ suppressMilliseconds: true })!, gridHour: local.hour });
  }
  return hours;
}
