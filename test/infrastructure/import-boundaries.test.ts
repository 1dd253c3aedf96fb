// The layering: runtime/ and lib/ import nothing of the project above them, and serving/ reads
// the PJM pipeline only through its public module. Edges come from the compiler's own module
// resolution (infrastructure/checks/import-boundaries.ts), so a type-only import counts too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BOUNDARY_RULES, boundaryViolations, projectImports } from '../../infrastructure/checks/import-boundaries.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const edges = projectImports(root);

test('the compiler lists the imports of every layer (the check sees something to check)', () => {
  for (const from of ['runtime/', 'lib/', 'serving/', 'assets/'])
    assert.ok(
      edges.some((e) => e.file.startsWith(from)),
      `no import from ${from} found`,
    );
  assert.ok(
    edges.some((e) => e.file === 'serving/predict/forecast.ts' && e.imports === 'assets/pjm/forecasting.ts'),
    'serving/predict/forecast.ts imports the public module',
  );
});

test('no import crosses a boundary', () => {
  const bad = boundaryViolations(edges);
  assert.equal(
    bad.map((v) => `${v.file} imports ${v.imports}: ${v.rule.why}`),
    [],
  );
});

test("serving names the pipeline's assets by ASSET_KEYS (assets/pjm/forecasting.ts), never by a string of its own", () => {
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
  const literal = /['"]pjm\/[a-z_/]+['"]/;
  assert.ok(literal.test("const MODEL_ASSET = 'pjm/model' as AssetKey;"));
  const found = files(join(root, 'serving')).flatMap((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .flatMap((line, i) => (literal.test(line) ? [`${relative(root, path)}:${i + 1}: ${line.trim()}`] : [])),
  );
  assert.equal(found, []);
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

test('the XGBoost binding is used through its public module (config.ts for entry points), never its native calls', () => {
  const probe = [
    { file: 'serving/model/load-off-thread.ts', imports: 'lib/xgboost/native.ts' },
    { file: 'assets/pjm/model/train.ts', imports: 'lib/xgboost/booster.ts' },
    { file: 'runtime/cli/main.ts', imports: 'lib/xgboost/config.ts' },
    { file: 'serving/model/load-off-thread.ts', imports: 'lib/xgboost/index.ts' },
    { file: 'lib/xgboost/booster.ts', imports: 'lib/xgboost/native.ts' },
  ];
  assert.equal(
    boundaryViolations(probe, BOUNDARY_RULES).map((v) => `${v.file} -> ${v.imports}`),
    ['serving/model/load-off-thread.ts -> lib/xgboost/native.ts', 'assets/pjm/model/train.ts -> lib/xgboost/booster.ts'],
  );
});

test.run();
