// From the 24-hour EPT grid back to real hours: the UTC hours of an EPT delivery day with the
// grid hour each one takes its value from. A spring-forward day has 23 (grid 02:00 has no real
// hour), a fall-back day 25 (both 01:00 hours take grid 01:00).
//
// Computed from EPT's offset per UTC hour (features/ept-offset.ts) rather than by stepping a
// zoned luxon DateTime through the day: /predict makes these for every new day it answers, and
// the ~100 luxon calls a day (plus, setZone, two toISO per hour) were a quarter of a new
// node-day's CPU in a profile of the server (bench/serving.ts, --cpu-prof). A test compares
// the two, hour by hour, over years of days with both DST changes.
import { dayNumberOf } from '../../../lib/days.ts';
import { eptOffsetMs } from '../features/ept-offset.ts';

export interface RealHour {
  /** Start of the hour in UTC, ISO 8601 with Z. */
  readonly tsUtc: string;
  /** The same instant in EPT wall-clock time with its offset, e.g. `2018-11-04T01:00:00-05:00`. */
  readonly tsEpt: string;
  /** Grid hour 0-23 whose value this hour gets. */
  readonly gridHour: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const YMD = /^\d{4}-\d{2}-\d{2}$/;

/** The UTC instant of EPT midnight starting day number `d` (05:00 UTC is before 02:00 EPT, so it has midnight's offset). */
const eptMidnight = (d: number): number => d * DAY_MS - eptOffsetMs(d * DAY_MS + 5 * HOUR_MS);

/** `-05:00` for -5 h. */
function offsetText(offsetMs: number): string {
  const minutes = Math.abs(offsetMs) / 60_000;
  return `${offsetMs < 0 ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** The real hours of an EPT delivery day `day` (YYYY-MM-DD), in time order. */
export function realHoursOfDay(day: string): RealHour[] {
  const d = dayNumberOf(day);
  if (!YMD.test(day) || !Number.isFinite(d) || new Date(d * DAY_MS).toISOString().slice(0, 10) !== day) {
    throw new Error(`realHoursOfDay: ${JSON.stringify(day)} is not a YYYY-MM-DD date.`);
  }
  const end = eptMidnight(d + 1);
  const hours: RealHour[] = [];
  for (let t = eptMidnight(d); t < end; t += HOUR_MS) {
    const offset = eptOffsetMs(t);
    const local = new Date(t + offset);
    hours.push({
      tsUtc: `${new Date(t).toISOString().slice(0, 19)}Z`,
      tsEpt: `${local.toISOString().slice(0, 19)}${offsetText(offset)}`,
      gridHour: local.getUTCHours(),
    });
  }
  return hours;
}
