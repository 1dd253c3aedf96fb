// LASSO solvers measured: lib/lasso's coordinate descent and LARS against XGBoost's gblinear
// booster (updater coord_descent, alpha = L1, lambda = 0: the same estimator), on speed and on
// agreement with scikit-learn (the committed fixture test/fixtures/lasso/lasso.json) and with
// the exact LARS solution on a LEAR-sized problem (PJM.csv, 1456-day window, hour 12, the
// invariant-transformed inputs: 1449 rows × 247 columns). Prints a table; a smoke run is ~1 min.
//
//   OMP_WAIT_POLICY=passive npx tsx bench/lasso.ts
import { readFileSync } from 'node:fs';
import { readEpftoolboxPanel } from '../assets/pjm/lear/epftoolbox-panel.ts';
import { Booster, DMatrix, train } from '../lib/xgboost/index.ts';
import {
  larsLassoPath,
  lassoCoordinateDescent,
  prepareDesign,
  prepareTarget,
  selectByInformationCriterion,
  toOriginalScale,
  type Matrix,
} from '../lib/lasso/index.ts';
import { applyInvariant, fitInvariant, learFeatureMatrix } from '../lib/lear/index.ts';
import { configureXGBoost } from '../lib/xgboost/config.ts';
import { ompWaitPolicy } from '../runtime/settings.ts';

// Like the CLI and the server: OpenMP's idle policy from the one settings loader, before XGBoost loads.
configureXGBoost({ ompWaitPolicy: ompWaitPolicy(process.env) });

interface Problem {
  name: string;
  x: Matrix;
  y: Float64Array;
  alpha: number;
  reference: Float64Array;
  referenceIntercept: number;
  referenceName: string;
}

const root = new URL('..', import.meta.url).pathname;
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

function problems(): Problem[] {
  const fixture = JSON.parse(readFileSync(join('test/fixtures/lasso/lasso.json'), 'utf8')) as {
    cases: Array<{ name: string; rows: number; cols: number; x: number[]; y: number[]; lasso: Array<{ alpha: number; coef: number[]; intercept: number }> }>;
  };
  const out: Problem[] = [];
  for (const c of fixture.cases) {
    const ref = c.lasso[1]!;
    out.push({
      name: `fixture ${c.name} ${c.rows}×${c.cols}`,
      x: { data: Float64Array.from(c.x), rows: c.rows, cols: c.cols },
      y: Float64Array.from(c.y),
      alpha: ref.alpha,
      reference: Float64Array.from(ref.coef),
      referenceIntercept: ref.intercept,
      referenceName: 'sklearn Lasso',
    });
  }
  // LEAR-sized: the first test day's 1456-day window, hour 12.
  const panel = readEpftoolboxPanel(join('data/epftoolbox/PJM.csv'));
  const d = panel.days.indexOf('2016-12-27');
  const p = 247;
  const n = 1456 - 7;
  const x = learFeatureMatrix(panel).slice((d - 1456 + 7) * p, d * p);
  applyInvariant(fitInvariant(x, n, p, p - 7), x, n, p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = panel.prices[(d - 1456 + 7 + i) * 24 + 12]!;
  const sy = fitInvariant(y, n, 1);
  applyInvariant(sy, y, n, 1);
  const design = prepareDesign({ data: x, rows: n, cols: p });
  const target = prepareTarget(design, y);
  const pick = selectByInformationCriterion(design, target, { definition: 'zou2007', maxIter: 2500 });
  const exact = toOriginalScale(design, target, pick.coef);
  out.push({
    name: `LEAR hour 12, ${n}×${p}`,
    x: { data: x, rows: n, cols: p },
    y,
    alpha: pick.alpha,
    reference: exact.coef,
    referenceIntercept: exact.intercept,
    referenceName: 'exact LARS knot (AIC)',
  });
  return out;
}
function join(rel: string) {
  return new URL(rel, `file://${root}`).pathname;
}

const time = async <T>(fn: () => T | Promise<T>, repeat = 1): Promise<{ value: T; ms: number }> => {
  const t = performance.now();
  let value!: T;
  for (let i = 0; i < repeat; i++) value = await fn();
  return { value, ms: (performance.now() - t) / repeat };
};

console.log(`${'problem'.padEnd(28)} ${'solver'.padEnd(44)} ${'ms'.padStart(9)}  max|Δcoef| vs reference`);
for (const pr of problems()) {
  const row = (solver: string, ms: number, diff: number) =>
    console.log(`${pr.name.padEnd(28)} ${solver.padEnd(44)} ${ms.toFixed(2).padStart(9)}  ${diff.toExponential(2)} (${pr.referenceName})`);
  const prep = await time(() => prepareDesign(pr.x), 3);
  row('prepareDesign (center + Gram, once per design)', prep.ms, Number.NaN);
  const design = prep.value;
  const target = prepareTarget(design, pr.y);
  for (const tol of [1e-4, 1e-8]) {
    const cd = await time(() => lassoCoordinateDescent(design, target, pr.alpha, { tol, maxIter: 100_000 }), 3);
    row(`ours: coordinate descent, tol ${tol} (${cd.value.sweeps} sweeps)`, cd.ms, maxAbs(toOriginalScale(design, target, cd.value.coef).coef, pr.reference));
  }
  const lars = await time(() => larsLassoPath(design, target, { maxIter: 5000, alphaMin: pr.alpha }), 3);
  row(`ours: LARS down to alpha (${lars.value.steps} steps)`, lars.ms, maxAbs(toOriginalScale(design, target, lars.value.coefs.at(-1)!).coef, pr.reference));
  const sel = await time(() => selectByInformationCriterion(design, target, { definition: 'zou2007', maxIter: 5000 }), 3);
  row('ours: LARS full path + AIC (LassoLarsIC)', sel.ms, Number.NaN);

  // XGBoost gblinear on the centered inputs (its bias is unpenalized like an intercept; centering
  // is what makes cyclic coordinate descent converge in few rounds).
  const { rows: n, cols: p } = pr.x;
  const x32 = new Float32Array(n * p);
  for (let i = 0; i < n * p; i++) x32[i] = design.x[i]!;
  const dm = DMatrix.fromDense(x32, { rows: n, cols: p, labels: Float32Array.from(pr.y) });
  for (const rounds of [100, 1000]) {
    const fit = await time(async () => {
      const r = await train(
        {
          booster: 'gblinear',
          updater: 'coord_descent',
          feature_selector: 'cyclic',
          alpha: pr.alpha,
          lambda: 0,
          eta: 1,
          nthread: 1,
          base_score: 0,
          tolerance: 0,
        },
        dm,
        { numBoostRound: rounds },
      );
      const model = JSON.parse(r.booster.toBuffer('json').toString('utf8')) as { learner: { gradient_booster: { model: { weights: number[] } } } };
      r.booster.dispose();
      return model.learner.gradient_booster.model.weights;
    });
    const w = Float64Array.from(fit.value.slice(0, p));
    row(`XGBoost gblinear coord_descent, ${rounds} rounds`, fit.ms, maxAbs(toOriginalScale(design, target, w).coef, pr.reference));
  }
  dm.dispose();
}
void Booster;
