// lib/lasso against scikit-learn 1.2.1 (test/fixtures/lasso/lasso.json, made by
// make_fixture.py): Lasso coefficients at fixed alphas, the LARS knots, and the alpha that
// LassoLarsIC(aic/bic) picks, on a tall (n > p) and a wide (n < p) problem.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  criterionAlongPath,
  lassoCoordinateDescent,
  lassoPath,
  larsLassoPath,
  prepareDesign,
  prepareTarget,
  selectByInformationCriterion,
  toOriginalScale,
} from '../../lib/lasso/index.ts';

interface Case {
  name: string;
  rows: number;
  cols: number;
  x: number[];
  y: number[];
  lasso: Array<{ alpha: number; coef: number[]; intercept: number; predict: number[] }>;
  zou2007: { alphas: number[]; criterion: number[]; bestIndex: number; coef: number[] };
  zou2007Normalized: { alphas: number[]; bestIndex: number; coef: number[] };
  aic?: { alpha: number; alphas: number[]; criterion: number[]; coef: number[]; intercept: number; noiseVariance: number };
  bic?: { alpha: number; alphas: number[]; criterion: number[]; coef: number[]; intercept: number; noiseVariance: number };
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/lasso/lasso.json', import.meta.url), 'utf8')) as { cases: Case[] };
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.is(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const setup = (c: Case, normalize = false) => {
  const design = prepareDesign({ data: Float64Array.from(c.x), rows: c.rows, cols: c.cols }, { normalize });
  return { design, target: prepareTarget(design, c.y) };
};

// Tolerance: the fixture's Lasso ran to tol 1e-12, ours to 1e-12 too; both are the same
// convex optimum, so coefficients agree to ~1e-8 (the printed 12 digits limit the rest).
for (const c of fixture.cases) {
  test(`${c.name}: coordinate descent matches sklearn Lasso at each alpha (|Δcoef| < 1e-7, |Δprediction| < 1e-7)`, () => {
    const { design, target } = setup(c);
    for (const ref of c.lasso) {
      const fit = lassoCoordinateDescent(design, target, ref.alpha, { tol: 1e-12, maxIter: 100_000 });
      assert.ok(fit.converged, `alpha ${ref.alpha} did not converge`);
      const { coef, intercept } = toOriginalScale(design, target, fit.coef);
      assert.ok(maxAbsDiff(coef, ref.coef) < 1e-7, `alpha ${ref.alpha}: coef differs by ${maxAbsDiff(coef, ref.coef)}`);
      assert.ok(Math.abs(intercept - ref.intercept) < 1e-6, `alpha ${ref.alpha}: intercept ${intercept} vs ${ref.intercept}`);
      const predict = Array.from({ length: c.rows }, (_, i) => intercept + coef.reduce((s, b, j) => s + b * c.x[i * c.cols + j]!, 0));
      assert.ok(maxAbsDiff(predict, ref.predict) < 1e-6);
    }
  });

  test(`${c.name}: a warm-started path reaches the same solutions`, () => {
    const { design, target } = setup(c);
    const alphas = c.lasso.map((l) => l.alpha);
    const path = lassoPath(design, target, alphas, { tol: 1e-12, maxIter: 100_000 });
    path.forEach((w, k) => {
      assert.ok(maxAbsDiff(toOriginalScale(design, target, w).coef, c.lasso[k]!.coef) < 1e-7);
    });
  });

  test(`${c.name}: LARS knots match sklearn's lars_path (relative 1e-8) and the pre-1.1 AIC picks the same knot`, () => {
    for (const [normalize, ref] of [
      [false, c.zou2007],
      [true, c.zou2007Normalized],
    ] as const) {
      const { design, target } = setup(c, normalize);
      const path = larsLassoPath(design, target, { maxIter: 2500 });
      assert.is(path.alphas.length, ref.alphas.length, `normalize=${normalize}: knot count`);
      for (let k = 0; k < ref.alphas.length; k++) {
        assert.ok(Math.abs(path.alphas[k]! - ref.alphas[k]!) <= 1e-8 * Math.max(1e-3, ref.alphas[0]!), `knot ${k}: ${path.alphas[k]} vs ${ref.alphas[k]}`);
      }
      const pick = selectByInformationCriterion(design, target, { criterion: 'aic', definition: 'zou2007', maxIter: 2500 });
      assert.is(pick.index, ref.bestIndex, `normalize=${normalize}: chosen knot`);
      assert.ok(maxAbsDiff(toOriginalScale(design, target, pick.coef).coef, ref.coef) < 1e-7);
    }
    const { design, target } = setup(c);
    const crit = criterionAlongPath(design, target, larsLassoPath(design, target, { maxIter: 2500 }), { definition: 'zou2007' });
    assert.ok(maxAbsDiff(crit, c.zou2007.criterion) < 1e-6 * Math.max(...c.zou2007.criterion.map(Math.abs)));
  });

  for (const crit of ['aic', 'bic'] as const) {
    const ref = c[crit];
    if (ref === undefined) continue;
    test(`${c.name}: LassoLarsIC(criterion='${crit}') picks alpha ${ref.alpha.toPrecision(6)}, with the same coefficients and criterion`, () => {
      const { design, target } = setup(c);
      const pick = selectByInformationCriterion(design, target, { criterion: crit, maxIter: 2500 });
      assert.ok(Math.abs(pick.alpha - ref.alpha) < 1e-9 * Math.max(1, ref.alpha), `alpha ${pick.alpha} vs ${ref.alpha}`);
      const { coef, intercept } = toOriginalScale(design, target, pick.coef);
      assert.ok(maxAbsDiff(coef, ref.coef) < 1e-7);
      assert.ok(Math.abs(intercept - ref.intercept) < 1e-6);
      assert.ok(maxAbsDiff(pick.criterion, ref.criterion) < 1e-6 * Math.max(...ref.criterion.map(Math.abs)));
    });
  }
}

test("the 'gaussian' criterion refuses a wide problem, saying what to use instead", () => {
  const c = fixture.cases.find((k) => k.name === 'wide')!;
  const { design, target } = setup(c);
  assert.throws(() => selectByInformationCriterion(design, target), /no degrees of freedom.*zou2007/);
});

test('AIC on a case with a known answer: orthogonal columns, the criterion computed by hand', () => {
  // Four orthogonal ±1 columns (a Hadamard matrix's, each summing to 0, so centering leaves
  // them alone) and y = 3 h1 - 2 h2 + 0.2 h3 + 0.1 h4 + 5. With X'X = 8 I the LASSO is soft
  // thresholding of c = X'y / 8 = (3, -2, 0.2, 0.1): knots at alpha 3, 2, 0.2, 0.1, 0 and
  // RSS(alpha) = 8 Σ min(|c_j|, alpha)². With noise variance 1, AIC - 8 log 2π = RSS + 2 df:
  //   alpha 3: 104.4 + 0 | 2: 64.4 + 2 | 0.2: 1.04 + 4 = 5.04 | 0.1: 0.32 + 6 | 0: 0 + 8
  // so AIC keeps h1 and h2 at alpha 0.2, with coefficients 2.8 and -1.8.
  const h = [
    [1, 1, 1, 1],
    [-1, 1, -1, 1],
    [1, -1, -1, 1],
    [-1, -1, 1, 1],
    [1, 1, 1, -1],
    [-1, 1, -1, -1],
    [1, -1, -1, -1],
    [-1, -1, 1, -1],
  ];
  const x = Float64Array.from(h.flat());
  const y = h.map((r) => 3 * r[0]! - 2 * r[1]! + 0.2 * r[2]! + 0.1 * r[3]! + 5);
  const design = prepareDesign({ data: x, rows: 8, cols: 4 });
  const target = prepareTarget(design, y);
  const pick = selectByInformationCriterion(design, target, { criterion: 'aic', noiseVariance: 1 });
  assert.ok(maxAbsDiff(pick.path.alphas, [3, 2, 0.2, 0.1, 0]) < 1e-12, `knots ${pick.path.alphas}`);
  const constant = 8 * Math.log(2 * Math.PI);
  assert.ok(
    maxAbsDiff(
      pick.criterion,
      [104.4, 66.4, 5.04, 6.32, 8].map((v) => v + constant),
    ) < 1e-9,
    `criterion ${pick.criterion}`,
  );
  assert.ok(Math.abs(pick.alpha - 0.2) < 1e-12);
  const { coef, intercept } = toOriginalScale(design, target, pick.coef);
  assert.ok(maxAbsDiff(coef, [2.8, -1.8, 0, 0]) < 1e-12, `coef ${coef}`);
  assert.ok(Math.abs(intercept - 5) < 1e-12);
  // BIC's log(8) ≈ 2.08 per feature still prefers the same knot; a noise variance of 0.01 makes
  // the last two features pay for themselves (RSS/σ² drops by 72 then 32): the full fit wins.
  assert.is(selectByInformationCriterion(design, target, { criterion: 'bic', noiseVariance: 1 }).index, 2);
  assert.is(selectByInformationCriterion(design, target, { criterion: 'aic', noiseVariance: 0.01 }).index, 4);
});

test('bad input names what is wrong', () => {
  assert.throws(() => prepareDesign({ data: new Float64Array([1, Number.NaN]), rows: 1, cols: 2 }), /row 0, column 1 is NaN/);
  assert.throws(() => prepareDesign({ data: new Float64Array(3), rows: 2, cols: 2 }), /3 values for 2 × 2/);
  const design = prepareDesign({ data: new Float64Array([1, 2, 3, 4]), rows: 2, cols: 2 });
  assert.throws(() => prepareTarget(design, [1]), /y has 1 values but the design has 2 rows/);
  assert.throws(() => lassoCoordinateDescent(design, prepareTarget(design, [1, 2]), -1), /alpha is -1/);
});

test.run();
