// Calendar days written YYYY-MM-DD, with no time of day and no zone: a partition key, a
// delivery day, a training window's bounds. The one place their arithmetic lives (adding
// days, days as integers for windows and array offsets), so that every module counts them
// the same way. Instants and local days of a named zone are another matter (luxon, in
// runtime/automation/zoned-time.ts).

const DAY_MS = 86_400_000;

/**
 * The day as a whole number of days since 1970-01-01 (so windows are integer ranges and
 * `dayNumberOf(b) - dayNumberOf(a)` is the number of days from a to b). NaN for a string that
 * is not a calendar day.
 */
export const dayNumberOf = (day: string): number => Math.round(Date.parse(`${day}T00:00:00Z`) / DAY_MS);

/** The YYYY-MM-DD day of a day number (the inverse of dayNumberOf). Throws a RangeError for a number that is not finite. */
export const dayOfNumber = (n: number): string => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** `day` moved by `n` calendar days (negative: earlier). Throws a RangeError naming `day` when it is not a calendar day. */
export function addDays(day: string, n: number): string {
  const number = dayNumberOf(day);
  if (Number.isNaN(number)) throw new RangeError(`addDays: ${JSON.stringify(day)} is not a YYYY-MM-DD calendar day.`);
  return dayOfNumber(number + n);
}
