// The data stages of the PJM pipeline as assets. Prices are partitioned by pricing node x
// EPT delivery day (`<pnode id>|<day>`), load by day (it is per area, not per node):
//   pjm/raw/{prices,load}        the source's rows for the node-day / day (source assets, re-read
//                                for the trailing PJM_REVISION_DAYS on every run)
//   pjm/processed/{prices,load}  canonical tables (assets/pjm/processed/)
//   pjm/validated/{prices,load}  the same rows, published only when the blocking checks pass
// The nodes are a dynamic dimension (`pjm_nodes`): the configured ones, plus those added with
// `materialize partitions add pjm_nodes ID`. Adding one makes that node's partitions missing
// and nothing else stale: no node list is part of any code version.
import {
  dailyPartitions,
  defineAsset,
  dynamicPartitions,
  eachPartition,
  multiPartitions,
  type MultiPartitions,
  type AssetCheck,
  type AssetDefinition,
  type AssetInput,
  type BatchOutput,
  type BatchPolicy,
  type Metadata,
  type PartitionKey,
  type PartitionsDefinition,
} from '../../runtime/index.ts';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ASSET_KEYS } from './asset-keys.ts';
import type { PjmConfig } from './config.ts';
import { canonicalLoadSql, canonicalPricesSql, priceRevisionReportsByDay, type PriceRevisionReport } from './processed/index.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RawSource } from './raw-source.ts';
import type { LoadFeed } from './sources/raw.ts';
import type { ValidationReport } from './validation/index.ts';
import { validateLoadDayFile, validateLoadDays, validatePriceDayFile, validatePriceDays, type LoadDayFile, type PriceDayFile } from './validation/batch.ts';

// Re-exported: the pipeline's modules import the keys from here.
export { ASSET_KEYS } from './asset-keys.ts';

/** Which blocking checks each validated table runs, by the names the validation reports use; false = warn only. */
const PRICE_CHECKS: Record<string, boolean> = {
  schema: true,
  keys_and_values: true,
  unique_node_market_hour: true,
  hourly_completeness: true,
  lmp_equals_components: true,
  price_range: true,
};
const LOAD_CHECKS: Record<string, boolean> = {
  schema: true,
  keys_and_values: true,
  unique_area_kind_hour: true,
  hourly_completeness: false,
  load_non_negative: true,
  zero_load_hours: false,
};

/**
 * The validation reports of candidate files, by path. A batch step computes its members' reports
 * together (validation/batch.ts) and leaves them here for the members' checks; a check that finds
 * none (a single step, or one evicted) computes its file's report itself.
 */
class ReportCache {
  private readonly reports = new Map<string, Promise<ValidationReport>>();
  // Two concurrent batches of 92 members fit; older entries belong to published steps.
  private static readonly capacity = 512;

  get(path: string): Promise<ValidationReport> | undefined {
    return this.reports.get(path);
  }

  set(path: string, report: Promise<ValidationReport>): void {
    this.reports.set(path, report);
    while (this.reports.size > ReportCache.capacity) this.reports.delete(this.reports.keys().next().value!);
  }
}

/**
 * Raw and processed partitions made in one step, each by its own single-partition code: a day
 * is a few dozen rows, so the runtime's fixed cost per step dominated (measured: raw and
 * processed took 105 s of the default run's 311 s as one step per partition).
 */
const SOURCE_DAY_BATCH = 92;

/** Windows past the last complete UTC day the live raw prices reach: today and the next delivery day. */
const RAW_PRICE_DAYS_AHEAD = 2;

/** Partitions of a validated asset judged in one step: the screen's fixed cost is paid once (validation/batch.ts). */
const VALIDATION_BATCH = 92;

/**
 * One runtime check per validation check. The report is computed once per
 * candidate file and shared by that candidate's checks; its full text is in
 * each check's metadata.
 */
function reportChecks(
  names: Record<string, boolean>,
  reports: ReportCache,
  run: (conn: DuckDBConnection, path: string, day: string, metadata: Metadata) => Promise<ValidationReport>,
  /** Why a check does not apply to a partition (it passes, saying so), or undefined when it does. */
  notApplicable: (name: string, partition: string) => string | undefined = () => undefined,
): AssetCheck[] {
  return Object.entries(names).map(([name, blocking]) => ({
    name,
    blocking,
    async check(ctx) {
      const skip = notApplicable(name, ctx.partition);
      if (skip !== undefined) return { passed: true, message: `not applicable: ${skip}` };
      let report = reports.get(ctx.output.path);
      if (!report) {
        report = ctx.duckdb().then((conn) => run(conn, ctx.output.path, ctx.partition, ctx.output.metadata));
        reports.set(ctx.output.path, report);
      }
      const r = await report;
      const result = r.checks.find((c) => c.name === name);
      if (!result) {
        const failed = r.checks.filter((c) => !c.passed).map((c) => c.name);
        return { passed: false, message: `not evaluated: ${failed.join(', ') || 'an earlier check'} failed first` };
      }
      return { passed: result.passed, message: result.message, metadata: { severity: result.severity, details: result.details as never } };
    },
  }));
}

/**
 * A validated table holds exactly the processed rows: copy the file byte for
 * byte (so its data version equals the processed one) and let the checks decide
 * whether it is published.
 */
async function publishCheckedCopy(input: AssetInput, tempDir: string, index = 0): Promise<{ parquetFile: string; metadata: Metadata }> {
  const [source] = await input.paths();
  if (!source || input.partitions.length !== 1) throw new Error(`Expected one partition of ${input.asset}, got ${input.partitions.length}.`);
  const target = join(tempDir, `${index}.validated.parquet`);
  await copyFile(source, target);
  const { rowCount, revisions } = input.metadata();
  // The processed step's revision report travels with the copy: the checks read it from here.
  return { parquetFile: target, metadata: { ...(typeof rowCount === 'number' ? { rowCount } : {}), ...(revisions !== undefined ? { revisions } : {}) } };
}

/**
 * A validated asset's batch: each member's checked copy, and the members' reports computed in
 * one screen and left in `reports` for their checks. A member whose copy fails is that member's
 * error alone.
 */
function validatedBatch(
  inputName: string,
  reports: ReportCache,
  judge: (conn: DuckDBConnection, copies: readonly { partition: string; path: string; metadata: Metadata }[]) => Promise<ValidationReport[]>,
  extraMetadata: Metadata = {},
): BatchPolicy {
  return {
    maxPartitions: VALIDATION_BATCH,
    async materialize(ctx) {
      const out = new Map<string, BatchOutput>();
      const copies: { partition: string; path: string; metadata: Metadata }[] = [];
      for (const [i, m] of ctx.members.entries()) {
        try {
          const copy = await publishCheckedCopy(m.input(inputName), ctx.tempDir, i);
          out.set(m.partition, { parquetFile: copy.parquetFile, metadata: { ...copy.metadata, ...extraMetadata } });
          copies.push({ partition: m.partition, path: copy.parquetFile, metadata: copy.metadata });
        } catch (error) {
          out.set(m.partition, { error: error as Error });
        }
      }
      try {
        const judged = await judge(await ctx.duckdb(), copies);
        for (const [i, c] of copies.entries()) reports.set(c.path, Promise.resolve(judged[i]!));
      } catch (e) {
        // Nothing cached: each member's checks then judge its own file, and name what is wrong.
        ctx.log.warn(`batch validation failed (${(e as Error).message}); each partition is judged alone`);
      }
      return out;
    },
  };
}

/**
 * The data assets. `loadFeed` (the source's `loadFeed()`) decides the load checks: with no load
 * feed the load assets are published empty with a failed warning `load_feed` (so a day is never
 * "complete" without load, and nothing is blocked); with one, a day missing a configured series
 * is blocked (`expected_series`). It is returned too, for the assets that would consume load.
 */
export function dataAssets(
  config: PjmConfig,
  source: RawSource,
  sourceFingerprint: string,
  loadFeed: LoadFeed,
): { assets: AssetDefinition<unknown>[]; days: PartitionsDefinition; nodeDays: MultiPartitions; rawNodeDays: MultiPartitions; loadFeed: LoadFeed } {
  const days = dailyPartitions({ start: config.start, end: config.end });
  const nodeDays = pjmNodeDays(config, days);
  // On the live clock the raw prices also have today and the next delivery day (endOffset 2:
  // keys up to the UTC day after today, which is never earlier than the EPT tomorrow), so the
  // da_prices_posted sensor's request for D+1 names partitions that exist; the processed and
  // validated prices reach them once the day is over.
  const rawNodeDays = config.followsClock ? pjmNodeDays(config, dailyPartitions({ start: config.start, endOffset: RAW_PRICE_DAYS_AHEAD })) : nodeDays;
  // What the rows of every node-day depend on: the source and the markets (load: the areas).
  // Never the node list (adding a hub must not restale the others) nor the files' hash (a new
  // export with one more hub would): a changed file is re-read for the trailing
  // PJM_REVISION_DAYS days, and `--force` re-reads any other; identical rows change nothing.
  const live = config.source === 'dataminer-api';
  const refresh = { trailing: config.revisionDays, because: `the source may revise its last ${config.revisionDays} days (PJM_REVISION_DAYS)` };
  const fetchOptions = (ctx: { signal: AbortSignal; runId: string; log: { warn(m: string): void } }) => ({
    signal: ctx.signal,
    runId: ctx.runId,
    warn: (m: string) => ctx.log.warn(m),
  });

  // The live source retries a day itself (rate limits, 5xx), but not a refused connection or a
  // bad key; file sources cannot get better by retrying. So the runtime never retries raw steps.
  const rawPrices = defineAsset({
    key: ASSET_KEYS.rawPrices,
    group: 'pjm',
    description: `The source rows of one pricing node and EPT delivery day: its LMPs in the configured markets, revisions included.${config.followsClock ? ' Reaches the next delivery day (its day-ahead prices post the day before); a day not over yet with nothing posted is empty.' : ''}`,
    partitions: rawNodeDays,
    io: 'table',
    codeVersion: `3:${config.source}:${config.markets.join('.')}`,
    source: true,
    // Ahead of the data on the live clock: today and the next day fill in as PJM posts them, so they are re-read too.
    refresh: config.followsClock
      ? {
          trailing: config.revisionDays + RAW_PRICE_DAYS_AHEAD,
          because: `the source may revise its last ${config.revisionDays} days (PJM_REVISION_DAYS), and today and the next delivery day fill in as PJM posts them`,
        }
      : refresh,
    retry: { maxAttempts: 1 },
    batch: eachPartition(SOURCE_DAY_BATCH, async (ctx) => {
      const { node, day } = splitNodeDay(ctx.partition);
      const r = await source.pricesForNodeDay(await ctx.duckdb(), node, day, ctx.tempDir, fetchOptions(ctx));
      return { sql: r.sql, metadata: { ...r.metadata, sourceFingerprint } };
    }),
  });
  const rawLoad = defineAsset({
    key: ASSET_KEYS.rawLoad,
    group: 'pjm',
    description: 'The source rows of one EPT delivery day: load forecasts and metered load of the configured areas.',
    partitions: days,
    io: 'table',
    codeVersion: `3:${config.source}:${config.loadAreas.join('.')}`,
    source: true,
    refresh,
    retry: { maxAttempts: 1 },
    batch: eachPartition(SOURCE_DAY_BATCH, async (ctx) => {
      const r = await source.loadForDay(await ctx.duckdb(), ctx.partition, ctx.tempDir, fetchOptions(ctx));
      return { sql: r.sql, metadata: { ...r.metadata, sourceFingerprint } };
    }),
  });

  // The canonical SQL reads its raw rows from a named table (it dedupes by rowid). A batch
  // reads every member's raw rows into one temp table in one scan (a raw partition holds
  // exactly its own day, and a batch is one node's days), and each member selects its day:
  // the same rows, ranks and order as a single step's, so the same bytes. `reports` says what
  // the canonical SQL did with each day's raw rows (revisions, duplicates, conflicts); it rides
  // in the metadata to the validated asset, whose checks judge it.
  const processedAsset = (
    key: string,
    partitions: PartitionsDefinition,
    rawKey: string,
    inputName: string,
    description: string,
    codeVersion: string,
    canonicalSql: (table: string, day: string) => string,
    reports?: (conn: DuckDBConnection, table: string, days: readonly string[]) => Promise<ReadonlyMap<string, Metadata>>,
  ) =>
    defineAsset({
      key,
      deps: [rawKey],
      group: 'pjm',
      description,
      partitions,
      io: 'table',
      codeVersion,
      batch: {
        maxPartitions: SOURCE_DAY_BATCH,
        async materialize(ctx) {
          const conn = await ctx.duckdb();
          const table = `raw_${inputName}`;
          await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM ${await ctx.input(inputName).sql()}`);
          const days = ctx.members.map((m) => dayOf(m.partition));
          const byDay = reports ? await reports(conn, table, days) : undefined;
          // The table stays on this step's connection until every member's output is written.
          return new Map<PartitionKey, BatchOutput>(
            ctx.members.map((m, i) => [m.partition, { sql: canonicalSql(table, days[i]!), metadata: byDay?.get(days[i]!) ?? {} }]),
          );
        },
      },
    });
  const processedPrices = processedAsset(
    ASSET_KEYS.processedPrices,
    nodeDays,
    ASSET_KEYS.rawPrices,
    'prices',
    'Canonical prices of one node-day: one row per (market, UTC hour), current revision only.',
    '3',
    (table, day) => canonicalPricesSql([table], { day }),
    async (conn, table, days) =>
      new Map([...(await priceRevisionReportsByDay(conn, table, days))].map(([day, r]) => [day, { revisions: r as unknown as Metadata }])),
  );
  const processedLoad = processedAsset(
    ASSET_KEYS.processedLoad,
    days,
    ASSET_KEYS.rawLoad,
    'load',
    'Canonical load: one row per (area, forecast|metered, UTC hour); the latest forecast issued before the day.',
    '1',
    (table, day) => canonicalLoadSql([table], { day }),
  );

  const freshness = (day: string) => (live && day === config.end ? { now: new Date(), maxAgeHours: config.freshnessMaxAgeHours } : undefined);
  // Live data is fresh when its last day is: earlier days are history (they were blocked as
  // "not evaluated" before, which made every live run but a one-day one fail).
  const freshnessOnLastDay = (name: string, partition: string): string | undefined =>
    name === 'freshness' && dayOf(partition) !== config.end ? `freshness is checked on the last day (${config.end}) only` : undefined;

  const priceReports = new ReportCache();
  const loadReports = new ReportCache();
  // What a price partition's file must hold: its node's hours of its day in the configured markets.
  const priceDayFile = (path: string, partition: string, metadata: Metadata): PriceDayFile => {
    const { node, day } = splitNodeDay(partition);
    return { path, node, day, markets: config.markets, freshness: freshness(day), revisions: metadata.revisions as unknown as PriceRevisionReport | undefined };
  };

  const loadDayFile = (path: string, day: string): LoadDayFile => ({ path, day, feed: loadFeed, freshness: freshness(day) });

  const validatedPrices = defineAsset({
    key: ASSET_KEYS.validatedPrices,
    deps: [ASSET_KEYS.processedPrices],
    group: 'pjm',
    description:
      'Canonical prices of one node-day that passed every blocking check: schema, unique (node, market, hour), hourly completeness of that node, lmp = energy + congestion + loss, price range.',
    partitions: nodeDays,
    io: 'table',
    codeVersion: '3',
    checks: reportChecks(
      live ? { ...PRICE_CHECKS, freshness: true } : PRICE_CHECKS,
      priceReports,
      (conn, path, partition, metadata) => validatePriceDayFile(conn, priceDayFile(path, partition, metadata)),
      freshnessOnLastDay,
    ),
    batch: validatedBatch('prices', priceReports, (conn, copies) =>
      validatePriceDays(
        conn,
        copies.map((c) => priceDayFile(c.path, c.partition, c.metadata)),
      ),
    ),
  });

  const validatedLoad = defineAsset({
    key: ASSET_KEYS.validatedLoad,
    deps: [ASSET_KEYS.processedLoad],
    group: 'pjm',
    description:
      'Canonical load that passed the blocking checks: schema, unique (area, kind, hour), a row for every configured series, load >= 0; 0 MW hours and gaps are flagged, and a source without load says so (load_feed).',
    partitions: days,
    io: 'table',
    codeVersion: '2',
    checks: reportChecks(
      loadFeed.status === 'absent' ? { ...LOAD_CHECKS, load_feed: false } : { ...LOAD_CHECKS, expected_series: true, ...(live ? { freshness: false } : {}) },
      loadReports,
      (conn, path, day) => validateLoadDayFile(conn, loadDayFile(path, day)),
      freshnessOnLastDay,
    ),
    batch: validatedBatch(
      'load',
      loadReports,
      (conn, copies) =>
        validateLoadDays(
          conn,
          copies.map((c) => loadDayFile(c.path, c.partition)),
        ),
      { loadFeed: loadFeed.status },
    ),
  });

  return {
    assets: [rawPrices, rawLoad, processedPrices, processedLoad, validatedPrices, validatedLoad] as AssetDefinition<unknown>[],
    days,
    nodeDays,
    rawNodeDays,
    loadFeed,
  };
}

/** The name nodes are added under: `materialize partitions add pjm_nodes 51288`. */
export const PJM_NODES_PARTITIONS = 'pjm_nodes';

/** The node x day partitions of the price assets: the configured nodes (and those added at run time) x `days`. */
export function pjmNodeDays(config: Pick<PjmConfig, 'nodes'>, days: PartitionsDefinition): MultiPartitions {
  return multiPartitions({ node: dynamicPartitions({ name: PJM_NODES_PARTITIONS, initialKeys: config.nodes.map((n) => String(n.id)) }), day: days });
}

/** The pnode id and the day of a `<node>|<day>` partition key. */
export function splitNodeDay(partition: string): { node: number; day: string } {
  const at = partition.indexOf('|');
  const node = Number(partition.slice(0, at));
  if (at < 0 || !Number.isSafeInteger(node) || node <= 0)
    throw new Error(`Partition ${JSON.stringify(partition)} is not <pnode id>|<day> (e.g. 51288|2025-05-01).`);
  return { node, day: partition.slice(at + 1) };
}

/** The day of a day or node-day partition key. */
export const dayOf = (partition: string): string => partition.slice(partition.indexOf('|') + 1);
