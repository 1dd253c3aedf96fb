// NERC holidays, computed (no network, no table to keep up to date). NERC's six holidays are
// New Year's Day, Memorial Day, Independence Day, Labor Day, Thanksgiving and Christmas; a
// holiday that falls on a Sunday is observed the Monday after, one on a Saturday is not moved.
// Load and prices on these days look like a weekend, which is why they are a feature.

/** An ISO calendar date, `YYYY-MM-DD`. */
export type IsoDate = string;

const iso = (year: number, month: number, day: number): IsoDate =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

/** Day of week of a calendar date, 0 = Sunday … 6 = Saturday. */
const weekday = (year: number, month: number, day: number): number => new Date(Date.UTC(year, month - 1, day)).getUTCDay();

/** The `n`-th (1-based) given weekday of a month. */
function nthWeekday(year: number, month: number, dow: number, n: number): number {
  const first = weekday(year, month, 1);
  return 1 + ((dow - first + 7) % 7) + 7 * (n - 1);
}

/** The last given weekday of a month. */
function lastWeekday(year: number, month: number, dow: number): number {
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const last = weekday(year, month, daysInMonth);
  return daysInMonth - ((last - dow + 7) % 7);
}

/** A fixed-date holiday, moved to Monday when it falls on a Sunday (NERC rule). */
function observedFixed(year: number, month: number, day: number): IsoDate {
  if (weekday(year, month, day) === 0) {
    const monday = new Date(Date.UTC(year, month - 1, day + 1));
    return iso(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate());
  }
  return iso(year, month, day);
}

/** The observed NERC holidays of one year, in calendar order. */
export function nercHolidays(year: number): IsoDate[] {
  return [
    observedFixed(year, 1, 1),
    iso(year, 5, lastWeekday(year, 5, 1)),
    observedFixed(year, 7, 4),
    iso(year, 9, nthWeekday(year, 9, 1, 1)),
    iso(year, 11, nthWeekday(year, 11, 4, 4)),
    observedFixed(year, 12, 25),
  ];
}

/** The observed NERC holidays of every year from `firstYear` to `lastYear` inclusive. */
export function nercHolidaysBetween(firstYear: number, lastYear: number): IsoDate[] {
  const out: IsoDate[] = [];
  for (let year = firstYear; year <= lastYear; year++) out.push(...nercHolidays(year));
  return out;
}
