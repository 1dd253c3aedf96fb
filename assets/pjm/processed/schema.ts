// The canonical schemas of `processed` (and what `validated` checks against): column names and
// DuckDB types, in file order.
export const PRICES_SCHEMA = [
  ['ts_utc', 'TIMESTAMP WITH TIME ZONE'],
  ['node_id', 'BIGINT'],
  ['node_name', 'VARCHAR'],
  ['node_type', 'VARCHAR'],
  ['zone', 'VARCHAR'],
  ['market', 'VARCHAR'],
  ['lmp', 'DOUBLE'],
  ['energy', 'DOUBLE'],
  ['congestion', 'DOUBLE'],
  ['loss', 'DOUBLE'],
] as const;

export const LOAD_SCHEMA = [
  ['ts_utc', 'TIMESTAMP WITH TIME ZONE'],
  ['area', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['mw', 'DOUBLE'],
] as const;

export type ColumnSpec = readonly (readonly [string, string])[];
