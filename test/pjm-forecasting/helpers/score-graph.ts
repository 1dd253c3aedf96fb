// A small graph for scoring served forecasts: COMED's validated DA prices by day, cut from the
// committed epftoolbox slice (test/fixtures/pjm-forecasting, see its SOURCE.md), up to a last
// day the test chooses (a later day "arrives" when the test opens the graph again with a later
// end), with an optional revision added to a day's prices; pjm/features built by the features
// code on the price-lags-only set; and the real pjm/forecast_score over them.
import { fileURLToPath } from 'node:url';
import { dailyPartitions, defineAsset, defineDefinitions, trailingWindowMapping, type AssetDefinition, type Definitions } from '../../../runtime/index.ts';
import { buildNodeDaysFeatures, type FeatureSet } from '../../../assets/pjm/features/index.ts';
import { forecastScoreAsset } from '../../../assets/pjm/served/score-asset.ts';
import { sqlString } from '../../../lib/duckdb/sql.ts';

export const FIXTURE_CSV = fileURLToPath(new URL('../../fixtures/pjm-forecasting/PJM-2016-10-29_2017-03-14.csv', import.meta.url));
export const FIRST_DAY = '2016-11-01';
export const COMED = 33092371;
export const PRICE_LAGS_ONLY: FeatureSet = { market: 'da', inputs: ['price_lags'], loadForecastArea: null, loadMeteredArea: null };

/** $/MWh added to every hour of a day's validated prices: PJM revising the day. */
export const revisions = new Map<string, number>();

/** `legacyDataDir`: where pjm/forecast_score looks for an earlier version's served-forecast file to import. */
export function scoreGraph(lastDay: string, legacyDataDir?: string): Definitions<unknown> {
  const days = dailyPartitions({ start: FIRST_DAY, end: lastDay });
  const prices = defineAsset({
    key: 'pjm/validated/prices',
    codeVersion: '1',
    io: 'table',
    partitions: days,
    materialize: (ctx) => ({
      sql: `SELECT (CAST(c0 AS TIMESTAMP) AT TIME ZONE 'America/New_York') AS ts_utc, CAST(${COMED} AS BIGINT) AS node_id, 'COMED' AS node_name, 'ZONE' AS node_type,
                   'COMED' AS zone, 'da' AS market, CAST(c1 AS DOUBLE) + ${revisions.get(ctx.partition) ?? 0} AS lmp,
                   CAST(NULL AS DOUBLE) AS energy, CAST(NULL AS DOUBLE) AS congestion, CAST(NULL AS DOUBLE) AS loss
            FROM read_csv(${sqlString(FIXTURE_CSV)}, header = true, all_varchar = true, names = ['c0', 'c1', 'c2', 'c3'])
            WHERE CAST(CAST(c0 AS TIMESTAMP) AS DATE) = DATE ${sqlString(ctx.partition)} ORDER BY ts_utc`,
    }),
  });
  const features = defineAsset({
    key: 'pjm/features',
    codeVersion: '1',
    io: 'table',
    partitions: days,
    deps: [{ asset: 'pjm/validated/prices', as: 'prices', mapping: trailingWindowMapping(7) }],
    async materialize(ctx) {
      const built = await buildNodeDaysFeatures(await ctx.duckdb(), {
        pricesParquet: await ctx.input('prices').paths(),
        loadParquet: [],
        market: 'da',
        featureSet: PRICE_LAGS_ONLY,
        nodeId: COMED,
        days: [ctx.partition],
        spanStart: FIRST_DAY,
        outDir: ctx.tempDir,
      });
      const r = built.get(ctx.partition);
      if (!r?.ok) throw new Error(`no features for ${ctx.partition}: ${r ? r.error.message : 'nothing built'}`);
      return { parquetFile: r.path };
    },
  });
  const score = forecastScoreAsset({ days, features: { asset: 'pjm/features' }, market: 'da', ...(legacyDataDir ? { legacyDataDir } : {}) });
  return defineDefinitions({ assets: [prices, features, score] as AssetDefinition<unknown>[] });
}
