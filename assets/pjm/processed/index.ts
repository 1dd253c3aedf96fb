// `processed`: DuckDB SQL turning any source's raw relations into the canonical prices and load tables.
export {
  canonicalPricesSql,
  winnersFromRelationsSql,
  canonicalFromWinnersSql,
  writeCanonicalPrices,
  priceRevisionReport,
  priceRevisionReportsByDay,
  type PricesSelection,
  type WriteResult,
  type PriceRevisionReport,
  type PriceConflict,
  type ConflictingRow,
} from './prices.ts';
export { canonicalLoadSql, writeCanonicalLoad, type LoadSelection } from './load.ts';
export { eptDayCondition, eptRangeCondition, eptDateOf, assertIsoDay } from './day.ts';
export { PRICES_SCHEMA, LOAD_SCHEMA, type ColumnSpec } from './schema.ts';
