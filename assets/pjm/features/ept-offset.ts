// EPT's offset from UTC at an instant, for code that turns UTC instants into EPT wall-clock
// times one row or one hour at a time (the in-memory features of /predict, the real hours of a
// forecast day). Asking luxon for a zoned DateTime costs microseconds and an Intl call each time;
// EPT offsets change only on the hour, so each UTC hour is asked once and then looked up.
import { DateTime } from 'luxon';
import { EPT_ZONE } from './sql.ts';

const HOUR_MS = 3_600_000;
const offsets = new Map<number, number>();

/** Local minus UTC in milliseconds at `ts` (epoch ms) in America/New_York, as `ts_utc AT TIME ZONE 'America/New_York'` applies it. */
export function eptOffsetMs(ts: number): number {
  const hourKey = Math.floor(ts / HOUR_MS);
  let off = offsets.get(hourKey);
  if (off === undefined) {
    off = DateTime.fromMillis(hourKey * HOUR_MS, { zone: EPT_ZONE }).offset * 60_000;
    offsets.set(hourKey, off);
  }
  return off;
}
