// The layering: runtime/ and lib/ import nothing of the project above them, and serving/ reads
// the PJM pipeline only through its public module. Edges come from the compiler's own module
// resolution (infrastructure/checks/import-boundaries.ts), so a type-only import counts too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { BOUNDARY_RULES, boundaryViolations, projectImports } from '../../infrastructure/checks/import-boundaries.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const edges = projectImports(root);

test('the compiler lists the imports of every layer (the check sees something to check)', () => {
  for (const from of ['runtime/', 'lib/', 'serving/', 'assets/']) assert.ok(edges.some((e) => e.file.startsWith(from)), `no import from ${from} found`);
  assert.ok(edges.some((e) => e.file === 'serving/predict/forecast.ts' && e.imports === 'assets/pjm/forecasting.ts'), 'serving/predict/forecast.ts imports the public module');
});

test('no import crosses a boundary', () => {
  const bad = boundaryViolations(edges);
  assert.equal(bad.map((v) => `${v.file} imports ${v.imports}: ${v.rule.why}`), []);
});

test('the rules catch what they forbid', () => {
  const probe = [
    { file: 'runtime/executor/run-unit.ts', imports: 'assets/pjm/config.ts' },
    { file: 'lib/lear/lear.ts', imports: 'runtime/keys.ts' },
    { file: 'serving/predict/forecast.ts', imports: 'assets/pjm/model/train.ts' },
    { file: 'serving/predict/forecast.ts', imports: 'assets/pjm/forecasting.ts' },
    { file: 'assets/pjm/model/train.ts', imports: 'lib/xgboost/index.ts' },
  ];
  assert.equal(
    boundaryViolations(probe, BOUNDARY_RULES).map((v) => `${v.file} -> ${v.imports}`),
    ['runtime/executor/run-unit.ts -> assets/pjm/config.ts', 'lib/lear/lear.ts -> runtime/keys.ts', 'serving/predict/forecast.ts -> assets/pjm/model/train.ts'],
  );
});

test.run();
