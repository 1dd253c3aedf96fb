// Metric functions against values worked out by hand, and the naive forecast rule.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mae, metricsReport, naiveForecast, rmae, rmse, scores, smape } from '../../assets/pjm/metrics.ts';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);

// actual 10, 20, 30, -5; forecast 12, 18, 33, 5 → errors 2, -2, 3, 10.
const actual = [10, 20, 30, -5];
const forecast = [12, 18, 33, 5];
const naive = [10, 25, 20, 0];

test('MAE: (2 + 2 + 3 + 10) / 4 = 4.25', () => close(mae(actual, forecast), 4.25, 'mae'));

test('RMSE: sqrt((4 + 4 + 9 + 100) / 4) = sqrt(29.25)', () => close(rmse(actual, forecast), Math.sqrt(29.25), 'rmse'));

test('sMAPE: mean of 2|e| / (|y| + |ŷ|) × 100, negative prices by absolute value', () => {
  // 4/22, 4/38, 6/63, 20/10
  close(smape(actual, forecast), (100 * (4 / 22 + 4 / 38 + 6 / 63 + 20 / 10)) / 4, 'smape');
  close(smape([0, 10], [0, 10]), 0, 'zero over zero counts as no error');
});

test('rMAE: MAE over the naive MAE, (0 + 5 + 10 + 5) / 4 = 5 → 4.25 / 5 = 0.85', () => {
  close(rmae(actual, forecast, naive), 0.85, 'rmae');
  const s = scores(actual, forecast, naive);
  close(s.naiveMae, 5, 'naive mae');
  close(s.rmae, 0.85, 'scores.rmae');
  assert.is(s.n, 4);
});

test('the naive forecast takes D-7 on Monday, Saturday and Sunday, else D-1', () => {
  const lag1 = 40;
  const lag7 = 70;
  assert.equal(
    [1, 2, 3, 4, 5, 6, 7].map((dow) => naiveForecast(dow, lag1, lag7)),
    [70, 40, 40, 40, 40, 70, 70],
  );
});

test('metrics are broken down by hour and by node', () => {
  const report = metricsReport([
    { nodeId: 1, hour: 0, actual: 10, forecast: 12, naive: 10 },
    { nodeId: 1, hour: 1, actual: 20, forecast: 18, naive: 25 },
    { nodeId: 2, hour: 0, actual: 30, forecast: 33, naive: 20 },
    { nodeId: 2, hour: 1, actual: -5, forecast: 5, naive: 0 },
  ]);
  close(report.overall.mae, 4.25, 'overall');
  close(report.byHour['0']!.mae, 2.5, 'hour 0: (2 + 3) / 2');
  close(report.byHour['1']!.mae, 6, 'hour 1: (2 + 10) / 2');
  close(report.byNode['1']!.mae, 2, 'node 1: (2 + 2) / 2');
  close(report.byNode['2']!.mae, 6.5, 'node 2: (3 + 10) / 2');
  close(report.byNode['2']!.rmae, 6.5 / 7.5, 'node 2 rMAE: naive (10 + 5) / 2');
  assert.equal(Object.keys(report.byHour), ['0', '1']);
});

test('mismatched or empty inputs are errors that say what was wrong', () => {
  assert.throws(() => mae([1, 2], [1]), /2 actual values but 1 forecasts/);
  assert.throws(() => rmse([], []), /no values/);
});

test.run();
