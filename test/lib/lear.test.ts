// LEAR against scikit-learn (test/fixtures/lasso/lear.json, made by make_fixture.py from
// data/epftoolbox/PJM.csv): the first epftoolbox test day with a 364-day window, per hour the
// alpha LassoLarsIC(aic) picks, the Lasso coefficients at it and the forecast; and the
// epftoolbox-as-published variant (pre-1.1 AIC on normalized columns, fit on raw ones).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readEpftoolboxPanel } from '../../assets/pjm/lear/epftoolbox-panel.ts';
import {
  averageForecasts,
  fitInvariant,
  fitLear,
  invertInvariant,
  learFeatureCount,
  learFeatureNames,
  learWalkForward,
  medianOf,
  predictLear,
  type DailyPanel,
} from '../../lib/lear/index.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/lasso/lear.json', import.meta.url), 'utf8')) as {
  testDay: string;
  window: number;
  actual: number[];
  hours: Array<{ alpha: number; coef: number[]; intercept: number; forecast: number; zou2007NormalizedAlpha: number; zou2007NormalizedForecast: number }>;
};
const panel = readEpftoolboxPanel(new URL('../../data/epftoolbox/PJM.csv', import.meta.url).pathname);
const testDay = panel.days.indexOf(fixture.testDay);

test('the panel has 24 prices and 2 exogenous series per day; 247 LEAR inputs', () => {
  assert.is(testDay, 1456); // exactly the longest epftoolbox window of history before the test period
  assert.is(panel.exogenous.length, 2);
  assert.is(learFeatureCount(2), 247);
  assert.is(learFeatureNames(2).length, 247);
});

// Tolerances: alphas are LARS knots, so equal to rounding (relative 1e-8); coefficients from two
// coordinate-descent runs to tol 1e-12 agree to 1e-6 absolute on inputs of order 1; forecasts to
// 1e-4 $/MWh.
test("sklearn-1.2 LEAR (gaussian AIC, no normalization): every hour's alpha, coefficients and forecast", () => {
  const model = fitLear(
    { panel, lastTrainDay: testDay - 1, window: fixture.window },
    { selection: { definition: 'gaussian', normalize: false }, tol: 1e-12, maxIter: 100_000 },
  );
  const forecast = predictLear(model, panel, testDay);
  fixture.hours.forEach((ref, h) => {
    assert.ok(Math.abs(model.alphas[h]! - ref.alpha) <= 1e-8 * ref.alpha, `hour ${h}: alpha ${model.alphas[h]} vs ${ref.alpha}`);
    let d = 0;
    for (let j = 0; j < ref.coef.length; j++) d = Math.max(d, Math.abs(model.coef[h]![j]! - ref.coef[j]!));
    assert.ok(d < 1e-6, `hour ${h}: coefficients differ by ${d}`);
    assert.ok(Math.abs(model.intercept[h]! - ref.intercept) < 1e-6, `hour ${h}: intercept`);
    assert.ok(Math.abs(forecast[h]! - ref.forecast) < 1e-4, `hour ${h}: forecast ${forecast[h]} vs ${ref.forecast}`);
  });
});

test('epftoolbox-as-published LEAR (pre-1.1 AIC on normalized columns, Lasso on raw ones): alphas and forecasts', () => {
  const model = fitLear({ panel, lastTrainDay: testDay - 1, window: fixture.window }, { tol: 1e-12, maxIter: 100_000 });
  const forecast = predictLear(model, panel, testDay);
  fixture.hours.forEach((ref, h) => {
    assert.ok(
      Math.abs(model.alphas[h]! - ref.zou2007NormalizedAlpha) <= 1e-8 * ref.zou2007NormalizedAlpha,
      `hour ${h}: alpha ${model.alphas[h]} vs ${ref.zou2007NormalizedAlpha}`,
    );
    assert.ok(Math.abs(forecast[h]! - ref.zou2007NormalizedForecast) < 1e-4, `hour ${h}: forecast ${forecast[h]} vs ${ref.zou2007NormalizedForecast}`);
  });
});

test('the invariant transform: numpy-style median, MAD fallback, exact inverse', () => {
  assert.is(medianOf(Float64Array.from([3, 1, 2])), 2);
  assert.is(medianOf(Float64Array.from([4, 1, 3, 2])), 2.5);
  // Column 0: median 2, |x - 2| = 1,1,0,1,1 → MAD 1 → scale 1/0.6744897501960817.
  // Column 1: constant except one value → MAD 0 → population standard deviation 0.4.
  const data = Float64Array.from([1, 5, 3, 5, 2, 5, 1, 5, 3, 6]);
  const s = fitInvariant(data, 5, 2);
  assert.is(s.median[0], 2);
  assert.ok(Math.abs(s.scale[0]! - 1 / 0.6744897501960817) < 1e-15);
  assert.ok(Math.abs(s.scale[1]! - 0.4) < 1e-12);
  assert.ok(Math.abs(invertInvariant(s, 0, Math.asinh((7 - 2) / s.scale[0]!)) - 7) < 1e-12);
});

test('calibration window averaging is the plain mean of the windows, and a window of the average equals the parts', () => {
  assert.equal(
    [
      ...averageForecasts([
        [1, 2],
        [3, 6],
      ]),
    ],
    [2, 4],
  );
  assert.throws(() => averageForecasts([[1], [1, 2]]), /member 1 has 2 values/);
  assert.throws(() => averageForecasts([]), /no members/);
  // Two short windows over three days: the CWA equals the mean of independent single fits.
  const run = learWalkForward({ panel, firstDay: testDay, lastDay: testDay + 2, windows: [56, 84] });
  for (let t = 0; t < 3; t++) {
    const singles = [56, 84].map((window) => predictLear(fitLear({ panel, lastTrainDay: testDay + t - 1, window }), panel, testDay + t));
    for (let h = 0; h < 24; h++) {
      const mean = (singles[0]![h]! + singles[1]![h]!) / 2;
      // Warm starts change where coordinate descent stops within its tolerance, not the optimum.
      assert.ok(Math.abs(run.cwa[t * 24 + h]! - mean) < 0.05, `day ${t} hour ${h}: ${run.cwa[t * 24 + h]} vs ${mean}`);
    }
  }
});

test("the faster LARS forecasts what the plain one did: the daily walk-forward on epftoolbox's four windows, within 1e-9", () => {
  // test/fixtures/lear/walk-forward-golden.json: the same run with the LARS before the
  // inactive-only products and the incremental forward solve (its generator says how).
  const golden = JSON.parse(readFileSync(new URL('../fixtures/lear/walk-forward-golden.json', import.meta.url), 'utf8')) as {
    firstDay: string;
    days: number;
    windows: number[];
    byWindow: number[][];
    alphas: number[][];
  };
  const first = panel.days.indexOf(golden.firstDay);
  const run = learWalkForward({ panel, firstDay: first, lastDay: first + golden.days - 1, windows: golden.windows });
  golden.windows.forEach((window, w) => {
    assert.is(run.byWindow[w]!.length, golden.days * 24);
    run.byWindow[w]!.forEach((v, i) => {
      assert.ok(Math.abs(v - golden.byWindow[w]![i]!) <= 1e-9 * Math.max(1, Math.abs(v)), `window ${window} hour ${i}: ${v} vs ${golden.byWindow[w]![i]}`);
    });
    run.alphas[w]!.forEach((a, i) => {
      assert.ok(Math.abs(a - golden.alphas[w]![i]!) <= 1e-9 * Math.max(1e-6, Math.abs(a)), `window ${window} hour ${i} alpha: ${a} vs ${golden.alphas[w]![i]}`);
    });
  });
});

test('bad panels are refused with the day and the field', () => {
  const bad: DailyPanel = { days: ['2020-01-01', '2020-01-03'], prices: new Float64Array(48), exogenous: [] };
  assert.throws(() => fitLear({ panel: bad, lastTrainDay: 1, window: 9 }), /2020-01-03 follows 2020-01-01/);
  assert.throws(() => fitLear({ panel, lastTrainDay: 100, window: 1456 }), /starts before the panel's first day/);
  const prices = Float64Array.from(panel.prices);
  prices[(testDay - 3) * 24 + 5] = Number.NaN;
  assert.throws(() => fitLear({ panel: { ...panel, prices }, lastTrainDay: testDay - 1, window: 56 }), /price_d\d_h05 of day|hour 5 is NaN/);
});

test.run();
