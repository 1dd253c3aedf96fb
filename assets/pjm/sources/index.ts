// The PJM sources (`raw`): each turns its input into the raw relations of raw.ts, which the
// canonical SQL of assets/pjm/processed reads whatever the source.
export { registerEpftoolbox, type EpftoolboxSummary, type EpftoolboxOptions, type EpftoolboxRelations } from './epftoolbox.ts';
export {
  findDataMinerCsvFiles,
  registerDataMinerLmpCsv,
  registerDataMinerLoadMeteredCsv,
  dataMinerLmpCsvSql,
  dataMinerLoadMeteredCsvSql,
  checkCsvHeaders,
  verifyCsvRows,
  lmpCsvColumns,
  LOAD_METERED_CSV_COLUMNS,
  DataMinerCsvError,
  type DataMinerCsvFiles,
  type RegisteredCsv,
} from './dataminer-csv.ts';
export {
  DataMinerClient,
  DataMinerError,
  RateLimiter,
  dayQuery,
  eptDayRange,
  parseRetryAfter,
  writeItemsNdjson,
  registerDataMinerNdjson,
  DATAMINER_FEEDS,
  type DataMinerFeed,
  type DataMinerItem,
  type DataMinerClientOptions,
  type DataMinerFailure,
  type DayFilter,
} from './dataminer-api.ts';
export { findEptMismatches, EptMismatchError, type EptMismatch } from './ept-check.ts';
export { RAW_LMP_COLUMNS, RAW_LOAD_COLUMNS, DATAMINER_CSV_TIMESTAMP, EPT_ZONE, useUtc, sqlIdent } from './raw.ts';
export { sqlString } from '../../../lib/duckdb/sql.ts';
