// Scoring what was served: a forecast of 2016-12-20 kept before that day's validated prices
// exist is not scored (and says why); once they arrive, the eager pjm/forecast_score scores it
// once, with figures checked by hand; PJM revising the day rescores it; /metrics and
// /api/forecast-scores show the rolling figures. The forecast is kept in the lineage store's
// asset records, read back through the store. Real DuckDB, SQLite and the features code.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServedForecastLog, type ServedForecast } from '../../assets/pjm/served/log.ts';
import { QUANTILE_LEVELS } from '../../lib/forecast-eval/index.ts';
import { runTick } from '../../runtime/automation/tick.ts';
import { Instance, materialize, type AssetKey } from '../../runtime/index.ts';
import { ForecastScores } from '../../serving/data/forecast-scores.ts';
import { call, startTestServer } from '../serving/support/server.ts';
import { launchBrowser, newPage, pageErrors, screenshot } from '../ui/helpers/browser.ts';
import { tempDir } from '../support/tmp.ts';
import { COMED, FIXTURE_CSV, revisions, scoreGraph } from './helpers/score-graph.ts';

const DAY = '2016-12-20'; // a Tuesday: the naive forecast is the price of 2016-12-19 at the hour
const SCORE = 'pjm/forecast_score' as AssetKey;
const dataDir = tempDir('forecast-score');

/** The fixture's 24 prices of DAY, read here with no project code. */
const actual = readFileSync(FIXTURE_CSV, 'utf8')
  .split('\n')
  .filter((l) => l.startsWith(`${DAY} `))
  .map((l) => Number(l.split(',')[1]));
// +3 $/MWh on even hours, -1 on odd ones: MAE 2. Quantiles at +-2 (50 %) and +-10 (90 %) around
// the forecast: the even hours (actual 3 below) fall outside the 50 % interval, the odd ones inside.
const OFFSETS = [-10, -6, -2, 0, 2, 6, 10];
const forecast: ServedForecast = {
  origin: 'predict',
  modelVersion: 'model-v1',
  nodeId: COMED,
  market: 'da',
  day: DAY,
  issuedAt: Date.parse('2016-12-19T19:00:00Z'),
  levels: [...QUANTILE_LEVELS],
  hours: actual.map((a, hour) => {
    const value = a + (hour % 2 === 0 ? 3 : -1);
    return { hour, value, quantiles: OFFSETS.map((o) => value + o) };
  }),
};

async function open(lastDay: string): Promise<Instance<unknown>> {
  return await Instance.open(scoreGraph(lastDay), { dataDir });
}

async function run(instance: Instance<unknown>, req: Parameters<typeof materialize>[1] = {}): Promise<void> {
  const r = await materialize(instance, { trigger: 'test', ...req });
  assert.is(r.status, 'succeeded', JSON.stringify(r.failures));
}

async function scoreOf(instance: Instance<unknown>, day: string): Promise<Record<string, unknown> | undefined> {
  const c = await instance.store.current(SCORE, day);
  return c ? (await instance.store.materialization(c.id))!.metadata : undefined;
}

test("before the day's validated prices exist, the kept forecast is not scored, and says why", async () => {
  assert.is(actual.length, 24);
  const instance = await open('2016-12-19');
  try {
    await run(instance);
    const log = new ServedForecastLog(instance.store);
    assert.is(await log.append([forecast]), 1);
    assert.is(await log.append([{ ...forecast, issuedAt: forecast.issuedAt + 1 }]), 0, 'one per model version x node x market x day');
    assert.equal(await log.forDays(DAY, DAY), [forecast]);
    assert.is(await scoreOf(instance, DAY), undefined);
    const view = await new ForecastScores(instance).view();
    assert.equal(view.rolling, []);
    assert.equal(
      view.pending.map((p) => [p.day, p.nodeId, p.reason]),
      [[DAY, COMED, `not scored yet: the validated prices of ${DAY} are not in (pjm/forecast_score[${DAY}] is scored once they are)`]],
    );
  } finally {
    await instance.close();
  }
});

test('once they arrive, the eager score scores it once: MAE 2, rMAE 2 / 11.1092, 50 % and 90 % coverage 0.5 and 1', async () => {
  const instance = await open(DAY);
  try {
    await run(instance, { selection: '+pjm/features' });
    const tick = await runTick(instance, { now: new Date('2016-12-21T12:00:00Z') });
    assert.equal(
      tick.runs.map((r) => r.status),
      ['succeeded'],
    );
    const m = (await scoreOf(instance, DAY))!;
    assert.is(m['hours'], 24);
    assert.is(m['mae'], 2);
    // |P(12-20, h) - P(12-19, h)| averaged over the 24 hours of the fixture, worked out by hand.
    assert.ok(Math.abs((m['naiveMae'] as number) - 11.109244666666669) < 1e-9, String(m['naiveMae']));
    assert.ok(Math.abs((m['rmae'] as number) - 2 / 11.109244666666669) < 1e-9);
    assert.is(m['coverage50'], 0.5);
    assert.is(m['coverage90'], 1);
    const again = await runTick(instance, { now: new Date('2016-12-21T12:05:00Z') });
    assert.equal(again.runs, [], 'scored once');
  } finally {
    await instance.close();
  }
});

test('PJM revises the day (+4 $/MWh every hour): the score is redone, MAE 3, naive MAE 7.3028', async () => {
  const instance = await open(DAY);
  try {
    revisions.set(DAY, 4);
    await run(instance, { selection: 'pjm/validated/prices', partitions: DAY, force: true });
    await run(instance, { selection: 'pjm/features' });
    const tick = await runTick(instance, { now: new Date('2016-12-22T12:00:00Z') });
    assert.equal(
      tick.runs.map((r) => r.status),
      ['succeeded'],
    );
    const m = (await scoreOf(instance, DAY))!;
    // Errors now -1 (even hours) and -5 (odd): MAE 3; the actuals sit 1 and 5 above the forecast.
    assert.is(m['mae'], 3);
    assert.ok(Math.abs((m['naiveMae'] as number) - 7.302788166666666) < 1e-9, String(m['naiveMae']));
    assert.is(m['coverage50'], 0.5);
    assert.is(m['coverage90'], 1);
  } finally {
    await instance.close();
  }
});

test('/metrics exports the rolling figures, /api/forecast-scores lists the day, and the UI charts them (Chromium)', async () => {
  const instance = await open(DAY);
  const server = await startTestServer(instance, { warmupMs: 0 });
  const browser = await launchBrowser();
  try {
    const metrics = (await call(server.url, 'GET', '/metrics')).text;
    for (const line of [
      'forecast_score_mae{window="7d"} 3',
      'forecast_score_mae{window="28d"} 3',
      'forecast_score_hours{window="7d"} 24',
      'forecast_score_interval_coverage{window="7d",interval="50"} 0.5',
      'forecast_score_interval_coverage{window="28d",interval="90"} 1',
    ]) {
      assert.ok(
        metrics.includes(line),
        `${line} in\n${metrics
          .split('\n')
          .filter((l) => l.startsWith('forecast_score'))
          .join('\n')}`,
      );
    }
    assert.match(metrics, /forecast_score_rmae\{window="7d"\} 0\.41080200213/);
    const api = (await call(server.url, 'GET', '/api/forecast-scores')).json;
    assert.equal(
      api.days.map((d: { day: string; mae: number }) => [d.day, d.mae]),
      [[DAY, 3]],
    );
    assert.equal(api.pending, []);
    // The scoring asset's page: the rolling table and the charts of the day's figures.
    const page = await newPage(browser);
    await page.goto(`${server.url}/#/assets/${encodeURIComponent('pjm/forecast_score')}`);
    await page.waitForSelector('[data-testid="live-scores"]');
    assert.equal(await page.$$eval('[data-testid="score-rolling"] tr[data-window] .mae', (cells) => cells.map((c) => c.textContent)), ['3.000', '3.000']);
    assert.is(await page.locator('[data-testid="score-mae-chart"] path.series').count(), 2);
    assert.is(await page.locator('[data-testid="score-mae-chart"] circle.dot').count(), 2, 'one day: a dot per series');
    assert.is(await page.locator('[data-testid="score-coverage-chart"] path.series').count(), 2);
    await screenshot(page, 'forecast-score');
    assert.equal(pageErrors(page), []);
  } finally {
    await browser.close();
    await server.stop();
    await instance.close();
  }
});

test.run();
