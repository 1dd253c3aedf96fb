// lib/forecast-eval: pinball loss, coverage and the DM test against hand-computed values;
// quantiles monotone in their level; conformal and QRA coverage on seeded synthetic data with
// a known (normal) error distribution.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  conformalQuantile,
  conformalQuantiles,
  dieboldMarianoMultivariate,
  dieboldMarianoUnivariate,
  intervalCoverage,
  normalCdf,
  pinballLoss,
  QUANTILE_LEVELS,
  qraQuantiles,
  quantileRegression,
  rearrangeQuantiles,
} from '../../lib/forecast-eval/index.ts';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Seeded standard normals (xorshift32 + Box-Muller), so every run draws the same sample. */
function normals(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

test('pinball loss by hand: two hours, levels 0.1 and 0.9', () => {
  // hour 0: y = 10, q0.1 = 8 (y above: 0.1·2 = 0.2), q0.9 = 13 (y below: 0.1·3 = 0.3)
  // hour 1: y = 20, q0.1 = 21 (below: 0.9·1 = 0.9), q0.9 = 15 (above: 0.9·5 = 4.5)
  // mean = (0.2 + 0.3 + 0.9 + 4.5) / 4 = 1.475
  const f = { levels: [0.1, 0.9], values: Float64Array.from([8, 13, 21, 15]) };
  close(pinballLoss([10, 20], f), 1.475, 1e-12, 'pinball');
  assert.throws(() => pinballLoss([10], f), /2 quantiles|4 quantiles for 1 hours/);
});

test('coverage by hand: the 50 % and 90 % central intervals', () => {
  const levels = [0.05, 0.25, 0.75, 0.95];
  // Three hours: y inside both, inside only the 90 %, outside both.
  const values = Float64Array.from([0, 1, 3, 4, 0, 1, 3, 4, 0, 1, 3, 4]);
  const actual = [2, 3.5, 5];
  close(intervalCoverage(actual, { levels, values }, 0.5), 1 / 3, 1e-12, '50 %');
  close(intervalCoverage(actual, { levels, values }, 0.9), 2 / 3, 1e-12, '90 %');
  assert.throws(() => intervalCoverage(actual, { levels, values }, 0.8), /needs level 0.1/);
});

test('rearrangement makes every hour monotone in the level and keeps sorted hours as they are', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 7, maxLength: 70 }), (raw) => {
      const values = Float64Array.from(raw.slice(0, Math.floor(raw.length / 7) * 7));
      const before = Float64Array.from(values);
      const f = { levels: [...QUANTILE_LEVELS], values };
      rearrangeQuantiles(f);
      for (let off = 0; off < values.length; off += 7) {
        for (let k = 1; k < 7; k++) if (values[off + k]! < values[off + k - 1]!) return false;
        // The same multiset of values per hour.
        const a = [...before.subarray(off, off + 7)].sort((x, y) => x - y);
        if (a.some((v, k) => v !== values[off + k])) return false;
      }
      return true;
    }),
    { seed: 13, numRuns: 300 },
  );
});

test('conformal rank: ⌈(n+1)τ⌉ above the median, ⌊(n+1)τ⌋ below', () => {
  const sorted = Float64Array.from({ length: 19 }, (_, i) => i + 1); // 1..19, n + 1 = 20
  assert.is(conformalQuantile(sorted, 0.95), 19);
  assert.is(conformalQuantile(sorted, 0.9), 18);
  assert.is(conformalQuantile(sorted, 0.5), 10);
  assert.is(conformalQuantile(sorted, 0.05), 1);
  assert.is(conformalQuantile(sorted, 0.25), 5);
});

// Synthetic walk-forward: 600 days × 24 hours, forecast f = level + hour shape, actual =
// f + σ_h ε with ε standard normal and σ_h = 1 + h / 12 (each hour its own spread).
function synthetic(seed: number, days = 600) {
  const z = normals(seed);
  const forecast = new Float64Array(days * 24);
  const actual = new Float64Array(days * 24);
  const members = [new Float64Array(days * 24), new Float64Array(days * 24)];
  for (let d = 0; d < days; d++) {
    for (let h = 0; h < 24; h++) {
      const i = d * 24 + h;
      const truth = 30 + 10 * Math.sin(d / 20) + 5 * Math.sin((h / 24) * 2 * Math.PI);
      const sigma = 1 + h / 12;
      forecast[i] = truth;
      actual[i] = truth + sigma * z();
      members[0]![i] = truth + 0.5 * z();
      members[1]![i] = truth + 0.5 * z();
    }
  }
  return { forecast, actual, members, days };
}

test('conformal quantiles cover at their nominal rate on normal errors (±1.5 points over 10,128 hours, seed 7)', () => {
  const s = synthetic(7);
  const q = conformalQuantiles({ forecast: s.forecast, actual: s.actual, window: 182 });
  const actual = s.actual.subarray(q.firstDay * 24);
  // Binomial sd of a 90 % rate over 10,128 hours is 0.3 points: 1.5 is five of them.
  close(intervalCoverage(actual, q, 0.9), 0.9, 0.015, '90 % coverage');
  close(intervalCoverage(actual, q, 0.5), 0.5, 0.015, '50 % coverage');
  // Each hour's 95 % quantile sits near f + 1.645 σ_h: the mean of offset / σ_h over all hours
  // and days (a rolling 182-day quantile has sd ≈ 0.16 σ; averaged over 24 hours and ~2 disjoint
  // windows each, ≈ 0.02), within 0.1.
  const m = QUANTILE_LEVELS.length;
  const days = s.days - q.firstDay;
  let ratio = 0;
  for (let t = 0; t < days; t++) {
    for (let h = 0; h < 24; h++) ratio += (q.values[(t * 24 + h) * m + 6]! - s.forecast[(q.firstDay + t) * 24 + h]!) / (1 + h / 12);
  }
  close(ratio / (days * 24), 1.645, 0.1, '95 % offset in σ');
  for (let i = 0; i < q.values.length; i += m) for (let k = 1; k < m; k++) assert.ok(q.values[i + k]! >= q.values[i + k - 1]!);
});

test('adaptive conformal: under errors whose spread changes in spells, coverage comes back to nominal where the plain window misses it (seed 11)', () => {
  // 600 days; the errors' spread is 1 for 50 days, then 3 for 50 days, and so on: a 182-day
  // window mixes both and covers the calm spells too widely and the wild ones too narrowly.
  const days = 600;
  const z = normals(11);
  const forecast = new Float64Array(days * 24).fill(50);
  const actual = Float64Array.from(forecast, (f, i) => f + (Math.floor(i / 24 / 50) % 2 === 0 ? 1 : 3) * z());
  const plain = conformalQuantiles({ forecast, actual, window: 182, firstDay: 56, minCalibration: 30 });
  const adaptive = conformalQuantiles({ forecast, actual, window: 182, firstDay: 56, minCalibration: 30, adaptive: { gamma: 0.02 } });
  const a = actual.subarray(56 * 24);
  // Over the wild spells alone the plain window's 90 % interval covers well under 90 %, the adaptive one nearer.
  const wild = (q: typeof plain) => {
    const hours = [...a.keys()].filter((i) => Math.floor((i / 24 + 56) / 50) % 2 === 1);
    const m = q.levels.length;
    return intervalCoverage(
      hours.map((i) => a[i]!),
      { levels: q.levels, values: Float64Array.from(hours.flatMap((i) => [...q.values.subarray(i * m, (i + 1) * m)])) },
      0.9,
    );
  };
  assert.ok(wild(plain) < 0.85, `plain, wild spells: ${wild(plain)}`);
  assert.ok(wild(adaptive) > wild(plain) + 0.02, `adaptive ${wild(adaptive)} vs plain ${wild(plain)} on the wild spells`);
  // Overall the adaptive levels keep each quantile's hit rate at its level (binomial sd over 13,056 hours ≈ 0.3 points).
  close(intervalCoverage(a, adaptive, 0.9), 0.9, 0.015, 'adaptive 90 % coverage');
  close(intervalCoverage(a, adaptive, 0.5), 0.5, 0.015, 'adaptive 50 % coverage');
  // Without adaptation the next levels are the nominal ones; with it they have moved.
  assert.equal([...plain.nextLevels.subarray(0, 7)], [...QUANTILE_LEVELS]);
  assert.ok(adaptive.nextLevels.some((v, i) => v !== QUANTILE_LEVELS[i % 7]));
  assert.throws(() => conformalQuantiles({ forecast, actual, adaptive: { gamma: 1 } }), /gamma 1 must be in \[0, 1\)/);
});

test('quantile regression by IRLS: intercept-only gives the sample quantile; a line through noise recovers slope and offset', () => {
  const y = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]; // τ = 0.3: any value in [3, 4] minimizes; IRLS lands inside
  const b = quantileRegression(new Float64Array(0), y, 0, 0.3);
  assert.ok(b[0]! >= 3 - 1e-6 && b[0]! <= 4 + 1e-6, `τ 0.3: ${b[0]}`);
  close(quantileRegression(new Float64Array(0), y, 0, 0.5)[0]!, 5.5, 0.5 + 1e-6, 'median');
  const z = normals(3);
  const n = 4000;
  const x = Float64Array.from({ length: n }, (_, i) => (i % 100) / 10);
  const yy = Float64Array.from(x, (v) => 2 * v + 1 + z());
  const b9 = quantileRegression(x, yy, 1, 0.9);
  close(b9[1]!, 2, 0.05, 'slope');
  close(b9[0]!, 1 + 1.2816, 0.15, 'offset of the 90 % quantile');
});

test('QRA quantiles are monotone and cover near nominal on synthetic members (±2 points)', () => {
  const s = synthetic(11, 400);
  const q = qraQuantiles({ members: s.members, actual: s.actual, window: 182, every: 7 });
  const actual = s.actual.subarray(q.firstDay * 24);
  close(intervalCoverage(actual, q, 0.9), 0.9, 0.02, '90 % coverage');
  close(intervalCoverage(actual, q, 0.5), 0.5, 0.02, '50 % coverage');
  const m = q.levels.length;
  for (let i = 0; i < q.values.length; i += m) for (let k = 1; k < m; k++) assert.ok(q.values[i + k]! >= q.values[i + k - 1]!);
});

test('the standard normal CDF at known points', () => {
  close(normalCdf(0), 0.5, 1e-15, 'Φ(0)');
  close(normalCdf(1.959963984540054), 0.975, 1e-14, 'Φ(1.96)');
  close(normalCdf(-1), 0.15865525393145707, 1e-15, 'Φ(-1)');
  close(normalCdf(-5) / 2.866515718791939e-7, 1, 1e-12, 'Φ(-5)');
  close(normalCdf(-10) / 7.619853024160527e-24, 1, 1e-12, 'Φ(-10)');
});

test('Diebold-Mariano by hand: multivariate and univariate, norms 1 and 2', () => {
  // 3 days × 2 hours. Errors of A: day0 (2, -2), day1 (1, 1), day2 (3, 1); of B: all (1, 0).
  // Norm 1, multivariate d_t = mean|e_A| - mean|e_B|: (2 - 0.5, 1 - 0.5, 2 - 0.5) = (1.5, 0.5, 1.5);
  // mean 7/6, population variance ((1/3)² · 2 + (2/3)²) / 3 = 2/9, statistic = (7/6) / sqrt(2/27).
  const actual = [10, 10, 10, 10, 10, 10];
  const forecastA = [8, 12, 9, 9, 7, 9];
  const forecastB = [9, 10, 9, 10, 9, 10];
  const m = dieboldMarianoMultivariate({ actual, forecastA, forecastB, hoursPerDay: 2 });
  close(m.statistic, 7 / 6 / Math.sqrt(2 / 27), 1e-12, 'statistic');
  close(m.pValue, 1 - normalCdf(m.statistic), 1e-15, 'p-value');
  assert.ok(m.pValue < 0.001, 'B is clearly better: a small p-value');
  // Univariate hour 0: d = |e_A| - |e_B| = (2-1, 1-1, 3-1) = (1, 0, 2): mean 1, var 2/3, stat 1/sqrt(2/9).
  const u = dieboldMarianoUnivariate({ actual, forecastA, forecastB, hoursPerDay: 2 });
  close(u[0]!.statistic, 1 / Math.sqrt(2 / 9), 1e-12, 'hour 0');
  // Norm 2, hour 1: e_A² - e_B² = (4, 1, 1): mean 2, var 2, stat 2 / sqrt(2/3).
  close(dieboldMarianoUnivariate({ actual, forecastA, forecastB, hoursPerDay: 2, norm: 2 })[1]!.statistic, 2 / Math.sqrt(2 / 3), 1e-12, 'norm 2 hour 1');
  // Swapping the forecasts flips the statistic's sign and the p-value to its complement.
  const swapped = dieboldMarianoMultivariate({ actual, forecastA: forecastB, forecastB: forecastA, hoursPerDay: 2 });
  close(swapped.statistic, -m.statistic, 1e-12, 'swap');
  close(swapped.pValue, 1 - m.pValue, 1e-12, 'swap p');
  assert.throws(() => dieboldMarianoMultivariate({ actual, forecastA, forecastB: [1], hoursPerDay: 2 }), /same hours/);
});

test.run();
