// The product's own forecast is kept and scored, end to end through the real definitions: a
// Data Miner CSV export of four hubs' DA prices and RTO metered load (test/fixtures/pjm/
// hubs4-2025-05-live, see SOURCE.md), first up to 2025-05-23: pjm/forecast forecasts
// 2025-05-24, whose prices are not in, and keeps it in the lineage store's asset records;
// then the export's 2025-05-24 is taken in (PJM_END moves on) and pjm/forecast_score scores
// that forecast against the day's validated prices — the MAE checked here against the
// export's rows, read with no project code. Written once, run on each store
// (forecast-kept.test.ts, forecast-kept-postgres.test.ts): the store says where each run's
// process keeps its DATA_DIR, so a store may run the second on another one, as a worker would.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { pjmDefinitions } from '../../../assets/definitions.ts';
import { ServedForecastLog } from '../../../assets/pjm/served/log.ts';
import { Instance, materialize, type AssetKey, type InstanceOptions } from '../../../runtime/index.ts';
import { itemsFromDataMinerCsv } from '../../support/dataminer-server.ts';
import { tempDir } from '../../support/tmp.ts';

const FIXTURE = fileURLToPath(new URL('../../fixtures/pjm/hubs4-2025-05-live/', import.meta.url));
const DAY = '2025-05-24';
const HUBS = [51217, 51287, 51288, 4669664];

/** How a run's process opens the instance: its DATA_DIR, and the store and storage it shares. */
export type OpenFor = (run: 'forecast' | 'score') => Promise<Required<Pick<InstanceOptions, 'dataDir'>> & InstanceOptions>;

export function forecastKeptStory(test: Test, openFor: OpenFor): void {
  const csvDir = tempDir('forecast-kept-csv');
  for (const f of ['hubs4_da_hrl_lmps.csv', 'rto_hrl_load_metered.csv']) copyFileSync(join(FIXTURE, f), join(csvDir, f));

  async function runTo(end: string, run: 'forecast' | 'score'): Promise<Instance<unknown>> {
    const env = {
      PJM_SOURCE: 'dataminer-csv',
      PJM_CSV_DIR: csvDir,
      PJM_MARKETS: 'da',
      PJM_START: '2025-05-01',
      PJM_END: end,
      PJM_LOAD_AREAS: 'RTO',
      PJM_BACKTEST_DAYS: '2',
      PJM_REVISION_DAYS: '0',
    };
    const options = await openFor(run);
    const instance = await Instance.open(await pjmDefinitions(env, { dataDir: options.dataDir }), options);
    const r = await materialize(instance, { trigger: 'test', now: new Date('2025-06-01T12:00:00Z') });
    assert.is(r.status, 'succeeded', JSON.stringify(r.failures.slice(0, 3)));
    return instance;
  }

  test('pjm/forecast keeps its forecast of the day after the data, one per node, in the lineage store', async () => {
    const instance = await runTo('2025-05-23', 'forecast');
    try {
      const rows = await new ServedForecastLog(instance.store).forDays(DAY, DAY);
      assert.equal(rows.map((r) => [r.origin, r.nodeId, r.market, r.hours.length]).sort(), HUBS.map((id) => ['forecast_asset', id, 'da', 24]).sort());
      const forecast = (await instance.store.materialization((await instance.store.current('pjm/forecast' as AssetKey, ''))!.id))!;
      assert.is(forecast.metadata['keptForScoring'], 4);
      const model = await instance.store.current('pjm/model' as AssetKey, '');
      assert.equal([...new Set(rows.map((r) => r.modelVersion))], [model!.dataVersion]);
    } finally {
      await instance.close();
    }
  });

  test('once the day is in, pjm/forecast_score scores that forecast: MAE over the 4 x 24 hours of the export', async () => {
    const instance = await runTo(DAY, 'score');
    try {
      const log = new ServedForecastLog(instance.store);
      const m = (await instance.store.materialization((await instance.store.current('pjm/forecast_score' as AssetKey, DAY))!.id))!.metadata;
      assert.is(m['forecasts'], 4);
      assert.is(m['hours'], 96);
      // The export's DA price of each hub and EPT hour of the day, against the kept forecast.
      const actual = new Map(
        itemsFromDataMinerCsv(join(FIXTURE, 'hubs4_da_hrl_lmps.csv'))
          .filter((it) => String(it['datetime_beginning_ept']).startsWith(`${DAY}T`))
          .map((it) => [`${it['pnode_id']}|${Number(String(it['datetime_beginning_ept']).slice(11, 13))}`, Number(it['total_lmp_da'])]),
      );
      assert.is(actual.size, 96);
      let sum = 0;
      for (const f of await log.forDays(DAY, DAY)) for (const h of f.hours) sum += Math.abs(h.value - actual.get(`${f.nodeId}|${h.hour}`)!);
      assert.ok(Math.abs((m['mae'] as number) - sum / 96) < 1e-9, `${m['mae']} vs ${sum / 96}`);
      assert.ok(typeof m['rmae'] === 'number' && (m['rmae'] as number) > 0);
      // A new forecast, of the next day, is kept in turn.
      assert.equal((await log.forDays('2025-05-25', '2025-05-25')).map((r) => r.nodeId).sort(), [...HUBS].sort());
    } finally {
      await instance.close();
    }
  });
}
