// Test helper: an epftoolbox-format CSV (PJM.csv or a committed slice of it) through the
// pipeline's own source and processed code (`registerEpftoolbox`, `writeCanonicalPrices`,
// `writeCanonicalLoad`) in one go for the whole file, instead of one daily partition at a time
// as the assets do: the same canonical prices and load tables the validated assets publish.
import type { DuckDBConnection } from '@duckdb/node-api';
import { registerEpftoolbox } from '../../../assets/pjm/sources/index.ts';
import { writeCanonicalLoad, writeCanonicalPrices } from '../../../assets/pjm/processed/index.ts';

export interface CanonicalPaths {
  readonly pricesParquet: string;
  readonly loadParquet: string;
}

/** Writes `prices.parquet` and `load.parquet` under `outDir` from an epftoolbox CSV. */
export async function epftoolboxCsvToCanonical(conn: DuckDBConnection, csvPath: string, outDir: string): Promise<CanonicalPaths> {
  const { relations } = await registerEpftoolbox(conn, csvPath);
  const prices = await writeCanonicalPrices(conn, [relations.lmp], `${outDir}/prices.parquet`);
  const load = await writeCanonicalLoad(conn, [relations.load], `${outDir}/load.parquet`);
  await conn.run(`DROP TABLE ${relations.lmp}; DROP TABLE ${relations.load};`);
  return { pricesParquet: prices.path, loadParquet: load.path };
}
