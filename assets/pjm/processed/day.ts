// Daily partitions: one EPT delivery day is the 23, 24 or 25 UTC hours from its local midnight
// to the next. Everything is keyed on UTC; the EPT day only chooses the window.
import { EPT_ZONE } from '../sources/raw.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

export function assertIsoDay(day: string, what = 'day'): void {
  if (!ISO_DAY.test(day) || Number.isNaN(new Date(`${day}T00:00:00Z`).getTime())) {
    throw new Error(`${what} must be an EPT calendar date YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
}

/** SQL condition: `col` (a TIMESTAMPTZ) lies in the EPT day `day`. */
export function eptDayCondition(col: string, day: string): string {
  assertIsoDay(day);
  const d = `DATE ${sqlString(day)}`;
  return `(${col} >= timezone('${EPT_ZONE}', CAST(${d} AS TIMESTAMP)) AND ${col} < timezone('${EPT_ZONE}', CAST(${d} + 1 AS TIMESTAMP)))`;
}

/** SQL condition: `col` lies in the EPT days `start`..`end` inclusive. */
export function eptRangeCondition(col: string, start: string, end: string): string {
  assertIsoDay(start, 'start');
  assertIsoDay(end, 'end');
  return `(${col} >= timezone('${EPT_ZONE}', CAST(DATE ${sqlString(start)} AS TIMESTAMP)) AND ${col} < timezone('${EPT_ZONE}', CAST(DATE ${sqlString(end)} + 1 AS TIMESTAMP)))`;
}

/** SQL expression: the EPT calendar date of TIMESTAMPTZ `col`. */
export const eptDateOf = (col: string): string => `CAST(timezone('${EPT_ZONE}', ${col}) AS DATE)`;
