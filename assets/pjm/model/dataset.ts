// Feature rows in memory, column by column: read from the features Parquet once, then sliced
// by day for each (re)calibration and packed row-major into Float32 for XGBoost.
import type { DuckDBConnection } from '@duckdb/node-api';
import { featureColumns, legacyFeatureSet, type FeatureSet, type Market } from '../features/columns.ts';

import { dayNumberOf } from '../../../lib/days.ts';
import { readDoubleColumns } from '../../../lib/duckdb/double-columns.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

/** Feature rows sorted by (day, node, hour); `features[name][i]` is row i's value (NaN = missing). */
export interface FeatureTable {
  readonly market: Market;
  /** The inputs the rows were built from; `featureNames` are its columns. */
  readonly featureSet: FeatureSet;
  readonly featureNames: readonly string[];
  readonly nodeId: Float64Array;
  /** EPT delivery day as days since 1970-01-01 (so windows are integer ranges). */
  readonly dayNumber: Int32Array;
  readonly hour: Int32Array;
  /** The price of (day, hour) in the row's market; NaN when not known yet. */
  readonly target: Float64Array;
  readonly features: Readonly<Record<string, Float64Array>>;
  readonly rows: number;
}

const asSet = (s: Market | FeatureSet): FeatureSet => (typeof s === 'string' ? legacyFeatureSet(s) : s);

/**
 * Reads features Parquet files (written by `buildFeatures` with `set`; a market alone means its
 * legacy set: one file, or every partition's) into a `FeatureTable`, in (day, node, hour) order.
 */
export async function readFeatureTable(conn: DuckDBConnection, paths: string | readonly string[], set: Market | FeatureSet): Promise<FeatureTable> {
  const featureSet = asSet(set);
  const market = featureSet.market;
  const names = featureColumns(featureSet);
  const files = typeof paths === 'string' ? [paths] : paths;
  const { rows, columns } = await readDoubleColumns(
    conn,
    `SELECT CAST(node_id AS DOUBLE) AS node_id, CAST(date_diff('day', DATE '1970-01-01', day) AS DOUBLE) AS day_number,
            CAST(hour AS DOUBLE) AS hour, CAST(target AS DOUBLE) AS target, ${names.map((n) => `CAST(${n} AS DOUBLE) AS ${n}`).join(', ')}
     FROM read_parquet([${files.map(sqlString).join(', ')}]) WHERE market = ${sqlString(market)} ORDER BY day, node_id, hour`,
  );
  return {
    market,
    featureSet,
    featureNames: names,
    nodeId: columns['node_id']!,
    dayNumber: Int32Array.from(columns['day_number']!),
    hour: Int32Array.from(columns['hour']!),
    target: columns['target']!,
    features: Object.fromEntries(names.map((n) => [n, columns[n]!])),
    rows,
  };
}

/** Row indices whose day is in [fromDay, toDay] (day numbers, inclusive); the table is day-sorted. */
export function rowsBetween(table: FeatureTable, fromDay: number, toDay: number): { start: number; end: number } {
  const lower = (day: number): number => {
    let lo = 0;
    let hi = table.rows;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (table.dayNumber[mid]! < day) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return { start: lower(fromDay), end: lower(toDay + 1) };
}

/** The rows of `table` whose node is `nodeId`, in the same order (a per-node model's table). */
export function nodeRows(table: FeatureTable, nodeId: number): FeatureTable {
  const keep: number[] = [];
  for (let i = 0; i < table.rows; i++) if (table.nodeId[i] === nodeId) keep.push(i);
  const pick = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
    const out = make(keep.length);
    for (const [k, i] of keep.entries()) out[k] = a[i]!;
    return out;
  };
  const f64 = (n: number) => new Float64Array(n);
  return {
    ...table,
    nodeId: pick(table.nodeId, f64),
    dayNumber: pick(table.dayNumber, (n) => new Int32Array(n)),
    hour: pick(table.hour, (n) => new Int32Array(n)),
    target: pick(table.target, f64),
    features: Object.fromEntries(Object.entries(table.features).map(([k, v]) => [k, pick(v, f64)])),
    rows: keep.length,
  };
}

/** A `FeatureTable` from in-memory feature rows (one day from `featuresForDay`), for prediction. */
export function featureTableFromRows(
  rows: ReadonlyArray<{ nodeId: number; day: string; hour: number; target: number | null; features: Readonly<Record<string, number | null>> }>,
  set: Market | FeatureSet,
): FeatureTable {
  const featureSet = asSet(set);
  const market = featureSet.market;
  const names = featureColumns(featureSet);
  const column = (get: (r: (typeof rows)[number]) => number | null): Float64Array => Float64Array.from(rows, (r) => get(r) ?? Number.NaN);
  return {
    market,
    featureSet,
    featureNames: names,
    nodeId: column((r) => r.nodeId),
    dayNumber: Int32Array.from(rows, (r) => dayNumberOf(r.day)),
    hour: Int32Array.from(rows, (r) => r.hour),
    target: column((r) => r.target),
    features: Object.fromEntries(names.map((n) => [n, column((r) => r.features[n] ?? null)])),
    rows: rows.length,
  };
}

/**
 * The `FeatureTable` of one node and one target day: its 24 grid-hour rows (hours 0-23), from
 * the columns `featuresInMemory` computes, for prediction. `features` must hold every column
 * of `set` (featureColumns(set)), each of 24 values.
 */
export function featureTableOfDay(day: {
  readonly nodeId: number;
  readonly day: string;
  readonly set: FeatureSet;
  readonly target: Float64Array;
  readonly features: Readonly<Record<string, Float64Array>>;
}): FeatureTable {
  return {
    market: day.set.market,
    featureSet: day.set,
    featureNames: featureColumns(day.set),
    nodeId: new Float64Array(24).fill(day.nodeId),
    dayNumber: new Int32Array(24).fill(dayNumberOf(day.day)),
    hour: Int32Array.from({ length: 24 }, (_, h) => h),
    target: day.target,
    features: day.features,
    rows: 24,
  };
}

/** The rows of several tables of one feature set, in the order given (e.g. a node's days D-7, D-1 and D for LEAR). */
export function concatFeatureTables(tables: readonly FeatureTable[]): FeatureTable {
  const first = tables[0];
  if (first === undefined) throw new Error('concatFeatureTables: no tables given.');
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  const join = <T extends Float64Array | Int32Array>(get: (t: FeatureTable) => T, make: (n: number) => T): T => {
    const out = make(rows);
    let at = 0;
    for (const t of tables) {
      out.set(get(t).subarray(0, t.rows) as never, at);
      at += t.rows;
    }
    return out;
  };
  const f64 = (n: number) => new Float64Array(n);
  return {
    ...first,
    nodeId: join((t) => t.nodeId, f64),
    dayNumber: join(
      (t) => t.dayNumber,
      (n) => new Int32Array(n),
    ),
    hour: join(
      (t) => t.hour,
      (n) => new Int32Array(n),
    ),
    target: join((t) => t.target, f64),
    features: Object.fromEntries(first.featureNames.map((name) => [name, join((t) => t.features[name] ?? new Float64Array(t.rows).fill(Number.NaN), f64)])),
    rows,
  };
}
