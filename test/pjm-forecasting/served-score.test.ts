// The scoring rules, on numbers small enough to check by eye: each node's last-issued forecast
// makes the day's figures (an earlier one is scored too, not counted), a node without validated
// prices is not scored and says so, the naive forecast is the backtest's (D-1 on a Tuesday, D-7
// on a Monday), and rolling windows pool hours over calendar days ending at the latest scored day.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ServedForecast } from '../../assets/pjm/served/log.ts';
import { NO_SUMS, rollingScore, scoreDay, type ActualHour } from '../../assets/pjm/served/score.ts';

const hours24 = Array.from({ length: 24 }, (_, h) => h);
const actuals = (dayOfWeek: number) =>
  new Map([[1, new Map(hours24.map((hour): [number, ActualHour] => [hour, { nodeId: 1, hour, actual: 10, dayOfWeek, lag1: 12, lag7: 7 }]))]]);
const forecast = (nodeId: number, modelVersion: string, issuedAt: number, value: number): ServedForecast => ({
  origin: 'predict',
  modelVersion,
  nodeId,
  market: 'da',
  day: '2026-12-01',
  issuedAt,
  levels: null,
  hours: hours24.map((hour) => ({ hour, value, quantiles: null })),
});

test('the last-issued forecast of a node makes the headline; a node without prices is unscored, saying why', () => {
  const s = scoreDay('2026-12-01', 'da', [forecast(1, 'v2', 2000, 13), forecast(1, 'v1', 1000, 11), forecast(2, 'v1', 1000, 50)], actuals(2));
  assert.equal(
    s.forecasts.map((f) => [f.modelVersion, f.mae, f.headline]),
    [
      ['v1', 1, false],
      ['v2', 3, true],
    ],
  );
  // Tuesday: the naive forecast is D-1's 12, 2 off every hour.
  assert.equal([s.hours, s.mae, s.naiveMae, s.rmae, s.coverage50, s.coverage90], [24, 3, 2, 1.5, null, null]);
  assert.equal(
    s.unscored.map((u) => [u.nodeId, u.reason]),
    [[2, 'no validated DA prices of node 2 for 2026-12-01 yet (its pjm/features partition has no complete row)']],
  );
  assert.is(s.summary, '2026-12-01: 1 node(s) scored over 24 hours, MAE 3.000, rMAE 1.500, no quantiles; 1 not scored.');
});

test('on a Monday the naive forecast is D-7', () => {
  const s = scoreDay('2026-12-01', 'da', [forecast(1, 'v1', 1000, 11)], actuals(1));
  assert.equal([s.mae, s.naiveMae, s.rmae], [1, 3, 1 / 3]);
});

test('rolling windows pool the hours of the calendar days ending at the latest scored day', () => {
  const day = (d: string, hours: number, absError: number, naiveAbsError: number) => ({ ...NO_SUMS, day: d, hours, absError, naiveAbsError });
  const days = [day('2026-11-03', 24, 240, 240), day('2026-11-24', 24, 48, 96), day('2026-12-01', 24, 24, 48), day('2026-12-02', 0, 0, 0)];
  const week = rollingScore(days, 7)!;
  assert.equal([week.endDay, week.scoredDays, week.hours, week.mae, week.rmae], ['2026-12-01', 1, 24, 1, 0.5]);
  const month = rollingScore(days, 28)!;
  assert.equal([month.scoredDays, month.hours, month.mae, month.rmae], [2, 48, 1.5, 0.5]);
  assert.is(rollingScore([day('2026-12-02', 0, 0, 0)], 7), undefined);
});

test.run();
