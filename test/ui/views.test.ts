// The UI's pure parts, with no server and no browser: the graph layout, the
// model and backtest views read from metadata shaped as the PJM assets write
// it, run progress folded from events, and failures overlaid on statuses.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EventRecord } from '../../runtime/index.ts';
import { foldRunEvents, type Failure } from '../../serving/ui-api/activity.ts';
import { findPredictions, forecastVsActual, modelViews, weekOf } from '../../serving/ui-api/model-view.ts';
import { backtestIn } from '../../assets/pjm/forecasting.ts';
import { runProgress } from '../../serving/ui-api/runs-view.ts';
import { layoutGraph } from '../../ui/layout.js';

test('layout: left to right by dependency depth, no two nodes of a column overlap', () => {
  const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => ({ key }));
  const edges = [
    { from: 'a', to: 'c' },
    { from: 'b', to: 'c' },
    { from: 'c', to: 'd' },
    { from: 'c', to: 'e' },
    { from: 'a', to: 'f' },
    { from: 'e', to: 'f' },
  ];
  const { positions } = layoutGraph(nodes, edges, { nodeWidth: 100, nodeHeight: 40, columnGap: 50, rowGap: 10 });
  const p = (k: string) => positions.get(k)!;
  for (const e of edges) assert.ok(p(e.from).x < p(e.to).x, `${e.from} left of ${e.to}`);
  assert.is(p('f').rank, 3, 'f sits after its deepest dependency e');
  const byColumn = new Map<number, number[]>();
  for (const { x, y } of positions.values()) byColumn.set(x, [...(byColumn.get(x) ?? []), y]);
  for (const ys of byColumn.values()) {
    ys.sort((a, b) => a - b);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i]! - ys[i - 1]! >= 50, 'nodes keep a row apart');
  }
});

test('layout: an edge that skips columns is routed through waypoints clear of the nodes it passes', () => {
  // a -> b -> c -> d, and a -> d skipping two columns; x sits in b's column, y in c's.
  const nodes = ['a', 'b', 'x', 'c', 'y', 'd'].map((key) => ({ key }));
  const edges = [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'c', to: 'd' },
    { from: 'a', to: 'd' },
    { from: 'a', to: 'x' },
    { from: 'x', to: 'y' },
    { from: 'b', to: 'y' },
  ];
  const h = 40;
  const { positions, routes } = layoutGraph(nodes, edges, { nodeWidth: 100, nodeHeight: h, columnGap: 50, rowGap: 10 });
  const long = routes[3]!;
  assert.is(long.length, 4, 'two columns crossed, two waypoints each (in and out)');
  assert.equal(routes[0], [], 'a one-column edge has no waypoints');
  for (const p of long) {
    for (const [key, n] of positions) {
      const inside = p.x >= n.x && p.x <= n.x + 100 && p.y > n.y - 1 && p.y < n.y + h + 1;
      assert.ok(!inside, `waypoint (${p.x}, ${p.y}) is clear of ${key}`);
    }
  }
});

test('layout: a source is placed just before its first consumer, not at the far left', () => {
  const nodes = ['a', 'b', 'c', 'late'].map((key) => ({ key }));
  const { positions } = layoutGraph(nodes, [
    { from: 'a', to: 'b' },
    { from: 'b', to: 'c' },
    { from: 'late', to: 'c' },
  ]);
  assert.is(positions.get('late')!.rank, 1);
});

// Shaped as assets/pjm/model/persist.ts's ModelSidecar and assets/pjm/backtest/report.ts's BacktestReport.
const sidecar = {
  format: 'pjm-lmp-xgb/1',
  market: 'da',
  featureNames: ['price_lag1_h', 'hour', 'load_forecast'],
  members: [
    {
      variant: { name: 'change' },
      file: 'm.json',
      rounds: 3,
      bestIteration: 2,
      learningCurve: { train: [0.9, 0.5, 0.4], valid: [1, 0.7, 0.65] },
      importance: [
        ['price_lag1_h', 30],
        ['hour', 10],
      ],
    },
    {
      variant: { name: 'level' },
      file: 'm.level.json',
      rounds: 2,
      bestIteration: 1,
      learningCurve: { train: [0.8, 0.6], valid: [0.9, 0.8] },
      importance: [
        ['price_lag1_h', 10],
        ['load_forecast', 20],
      ],
    },
  ],
  window: { firstDay: '2013-01-01', lastDay: '2016-12-26', validationFirstDay: '2016-10-01' },
  metrics: { mae: 3.1 },
  trainedAt: '2026-11-27T07:00:00.000Z',
};

test('model view: learning curves per member and importance averaged over members', () => {
  const { model, backtest } = modelViews({ sidecar } as never);
  assert.is(backtest, undefined);
  assert.is(model!.market, 'da');
  assert.is(model!.featureCount, 3);
  assert.equal(
    model!.members.map((m) => [m.name, m.rounds, m.learningCurve.valid.length]),
    [
      ['change', 3, 3],
      ['level', 2, 2],
    ],
  );
  assert.equal(model!.importance, [
    { feature: 'price_lag1_h', gain: 20 },
    { feature: 'load_forecast', gain: 10 },
    { feature: 'hour', gain: 5 },
  ]);
});

test('model view: a model serving LEAR (sidecar format 2) says its family, weights and windows; XGBoost alone says nothing more', () => {
  assert.is(modelViews({ sidecar } as never).model!.served, null);
  const families = {
    choice: 'ensemble',
    weights: { xgboost: 0.5, lear: 0.5 },
    combination: 'mean',
    lear: { file: 'm.lear.json', windows: [56, 84], nodes: [{ nodeId: 1, exogenousColumns: [], windows: [] }] },
  };
  const { model } = modelViews({ sidecar: { ...sidecar, format: 'pjm-lmp/2', servedFamily: 'ensemble', families } } as never);
  assert.is(
    model!.served,
    'Served: the ensemble: the mean of XGBoost and LEAR, weights XGBoost 0.5 and LEAR 0.5; LEAR on the 56/84-day windows averaged, fitted for 1 node.',
  );
});

test('backtest view: comparison rows (NaN stored as null), MAE by hour and node', () => {
  const report = {
    market: 'da',
    testFirstDay: '2016-12-27',
    testLastDay: '2017-01-31',
    hours: 864,
    retrains: 6,
    metrics: {
      overall: { n: 864, mae: 3, rmse: 5, smape: 10, rmae: 0.6, naiveMae: 5 },
      byHour: { '1': { n: 36, mae: 2.5, naiveMae: 4 }, '0': { n: 36, mae: 2, naiveMae: 3 } },
      byNode: { '33092371': { n: 864, mae: 3, rmae: 0.6 } },
    },
    comparison: [
      { name: 'xgboost', mae: 3, rmse: 5, smape: 10, rmae: 0.6 },
      { name: 'Naive (D-7 Mon/Sat/Sun, else D-1)', mae: 5, rmse: null, smape: null, rmae: 1 },
    ],
  };
  const { backtest, model } = modelViews(report as never);
  assert.is(model, undefined);
  assert.is(backtest!.comparison[1]!.rmse, null);
  assert.equal(
    backtest!.byHour.map((h) => h.hour),
    [0, 1],
  );
  assert.equal(backtest!.byNode, [{ node: '33092371', mae: 3, rmae: 0.6, n: 864 }]);
  assert.equal(modelViews({ rows: 24 }), {}, 'ordinary metadata has no model view');
});

test('forecast versus actual: predictions found in the stored value, one node and week picked', () => {
  const hours = [];
  for (const day of ['2017-01-01', '2017-01-02', '2017-01-09'])
    for (let hour = 0; hour < 24; hour++) hours.push({ nodeId: 1, day, hour, actual: hour, forecast: hour + 1, naive: hour - 1 });
  const found = findPredictions({ report: { comparison: [] }, forecasts: hours } as never)!;
  assert.throws(() => findPredictions({ forecasts: [{ node: 1, day: '2017-01-01', hour: 0, forecast: 1 }] } as never), /forecasts\[0\] is not a ForecastHour/);
  assert.is(found.length, 72);
  assert.is(weekOf('2017-01-01'), '2016-12-26', 'a Sunday belongs to the week of the Monday before');
  const last = forecastVsActual(found, {});
  assert.equal(last.weeks, ['2016-12-26', '2017-01-02', '2017-01-09']);
  assert.is(last.week, '2017-01-09');
  assert.is(last.hours.length, 24);
  const chosen = forecastVsActual(found, { node: '1', week: '2017-01-03' });
  assert.is(chosen.week, '2017-01-02');
  assert.equal(
    chosen.hours.map((h) => h.day),
    Array(24).fill('2017-01-02'),
  );
  assert.is(findPredictions({ rows: 3 } as never), undefined);
  assert.is(findPredictions(hours as never), undefined, "only where pjm/backtest writes them: the value's forecasts");
});

const ev = (id: number, type: EventRecord['type'], asset: string | null, extra: Partial<EventRecord> = {}): EventRecord => ({
  id,
  runId: 'r1',
  ts: id * 10,
  level: 'info',
  type,
  asset,
  partition: asset ? '' : null,
  message: `${type} ${asset ?? ''}`,
  data: null,
  ...extra,
});

test('run progress: planned steps, done, running, by outcome', () => {
  const events = [
    ev(1, 'run_started', null, { data: { planned: { run: 2, conditional: 1, skip: 4 } } }),
    ev(2, 'step_started', 'a'),
    ev(3, 'step_materialized', 'a'),
    ev(4, 'step_started', 'b'),
    ev(5, 'step_skipped', 'c'),
  ];
  assert.equal(runProgress(events), { planned: 3, done: 2, running: 1, materialized: 1, failed: 0, blocked: 0, skipped: 1 });
});

test('activity: a step that started and has not ended is running; the latest failure of a partition wins', () => {
  const running = new Map<any, Set<string>>();
  const failures = new Map<any, Map<string, Failure>>();
  foldRunEvents(
    [
      ev(1, 'step_started', 'a'),
      ev(2, 'step_started', 'b'),
      ev(3, 'step_failed', 'b', { data: { error: 'boom' } }),
      ev(4, 'step_started', 'c'),
      ev(5, 'step_blocked', 'c', { data: { message: 'check x failed' } }),
    ],
    { running, failures },
  );
  assert.equal([...running.get('a')!], ['']);
  assert.is(running.get('b')!.size, 0);
  assert.equal(failures.get('b')!.get(''), { runId: 'r1', ts: 30, kind: 'failed', message: 'boom' });
  assert.is(failures.get('c')!.get('')!.kind, 'blocked');
  assert.is(failures.get('c')!.get('')!.message, 'check x failed');
});

test("backtest figures are found where each writer puts them: a report as is, pjm/backtest's value (report), pjm/model's metadata (backtest)", () => {
  const comparison = [{ name: 'xgboost', mae: 3, rmse: 5, smape: 10, rmae: 0.6 }];
  const report = { market: 'da', testFirstDay: '2016-12-27', comparison };
  assert.is(backtestIn(report), report);
  assert.is(backtestIn({ report, forecasts: [] }), report);
  const summary = { testFirstDay: '2016-12-27', comparison };
  assert.is(backtestIn({ sidecar: {}, backtest: summary }), summary);
  assert.is(backtestIn({ rows: 24, report: { comparison: 'not a table' } }), undefined);
});

test.run();
