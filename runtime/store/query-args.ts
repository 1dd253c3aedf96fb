// Checks of the numbers callers pass to store queries, shared by both implementations.

/**
 * `value` when it is a whole number a database can bind as an integer, else a RangeError naming
 * the method and option (SQLite's own answer to 1e20 or NaN is "datatype mismatch", naming neither).
 */
export function wholeNumber(method: string, option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${method}: ${option} must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${String(value)}.`);
  }
  return value;
}
