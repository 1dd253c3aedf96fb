// Verifies a raw relation's EPT wall-clock column against its UTC column: converting ts_utc to
// America/New_York must give ts_ept on every row. This is how DST days are checked: on the
// fall-back day two UTC hours share the EPT label 01:00, on the spring-forward day 02:00 EPT does
// not exist, and a source that got either wrong (or mixed up AM/PM) shows up here.
import type { DuckDBConnection } from '@duckdb/node-api';
import { EPT_ZONE, sqlIdent } from './raw.ts';

export interface EptMismatch {
  readonly tsUtc: string;
  readonly tsEpt: string;
  readonly expectedEpt: string;
}

/**
 * Rows whose ts_ept is not ts_utc in Eastern time (the first `limit`, oldest first). When the
 * relation holds distinct (ts_utc, ts_ept) pairs, `weight` names its row-count column.
 */
export async function findEptMismatches(
  conn: DuckDBConnection,
  relation: string,
  limit = 10,
  weight?: string,
): Promise<{ count: number; examples: EptMismatch[] }> {
  const where = `ts_ept IS DISTINCT FROM timezone('${EPT_ZONE}', ts_utc)`;
  const count = await conn.runAndReadAll(
    `SELECT coalesce(${weight === undefined ? 'count(*)' : `sum(${sqlIdent(weight)})`}, 0)::BIGINT AS n FROM ${sqlIdent(relation)} WHERE ${where}`,
  );
  const n = Number(count.getRowObjects()[0]?.['n'] ?? 0);
  if (n === 0) return { count: 0, examples: [] };
  const rows = await conn.runAndReadAll(`
    SELECT strftime(ts_utc, '%Y-%m-%dT%H:%M:%SZ') AS ts_utc, CAST(ts_ept AS VARCHAR) AS ts_ept,
           CAST(timezone('${EPT_ZONE}', ts_utc) AS VARCHAR) AS expected
    FROM ${sqlIdent(relation)} WHERE ${where} ORDER BY ts_utc LIMIT ${Math.trunc(limit)}`);
  return {
    count: n,
    examples: rows.getRowObjects().map((r) => ({ tsUtc: String(r['ts_utc']), tsEpt: String(r['ts_ept']), expectedEpt: String(r['expected']) })),
  };
}

/** Raw rows whose EPT label is not their UTC hour in Eastern time: a damaged or misparsed source. */
export class EptMismatchError extends Error {
  override readonly name = 'EptMismatchError';
  readonly reason = 'ept_mismatch' as const;
  constructor(
    readonly sources: readonly string[],
    readonly count: number,
    readonly examples: readonly EptMismatch[],
  ) {
    super(
      `${sources.join(', ')}: ${count} (node, market, hour) keys with a datetime_beginning_ept that disagrees with datetime_beginning_utc (` +
        examples.map((x) => `${x.tsUtc} is ${x.expectedEpt} EPT but the source says ${x.tsEpt}`).join('; ') +
        '). The data is damaged or not a Data Miner export; nothing was written.',
    );
  }
}
