// bin/materialize.js starts dist/ only when it is current: built after the last change to
// any TypeScript source the build read (its recorded inputs). An edited source must never run stale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain JavaScript module of bin/, without types
import { distIsCurrent, writeStamp } from '../../bin/compiled.js';
import { tempDir } from '../support/tmp.ts';

const INPUTS = ['runtime/cli/main.ts', 'assets/pjm/config.ts', 'serving/main.ts', 'lib/code-location.ts'];

function project(): string {
  const root = tempDir('compiled');
  for (const d of ['runtime/cli', 'assets/pjm', 'serving', 'lib', 'dist']) mkdirSync(join(root, d), { recursive: true });
  for (const f of INPUTS) writeFileSync(join(root, f), '// source\n');
  return root;
}

const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

test('dist/ is current only once built, and only until one of its inputs changes', () => {
  const root = project();
  assert.is(distIsCurrent(root), false, 'never built');
  writeStamp(INPUTS, root);
  const stamp = join(root, 'dist', '.built');
  at(stamp, 2_000_000_000);
  for (const f of INPUTS) at(join(root, f), 1_900_000_000);
  assert.is(distIsCurrent(root), true);
  // A source edited after the build, however deep: run the sources.
  at(join(root, 'assets/pjm/config.ts'), 2_000_000_001);
  assert.is(distIsCurrent(root), false);
  at(join(root, 'assets/pjm/config.ts'), 1_900_000_000);
  assert.is(distIsCurrent(root), true);
  // A new file the build did not read is not in dist/: it cannot make it stale (an input that
  // starts importing it is itself edited).
  writeFileSync(join(root, 'lib/new-module.ts'), '// new\n');
  at(join(root, 'lib/new-module.ts'), 2_000_000_005);
  assert.is(distIsCurrent(root), true);
  // An input deleted since the build: dist/ holds code that is gone.
  rmSync(join(root, 'lib/code-location.ts'));
  assert.is(distIsCurrent(root), false);
});

test('a stamp without inputs (an older build) is not current', () => {
  const root = project();
  writeFileSync(join(root, 'dist', '.built'), '2026-12-01T00:00:00.000Z\n');
  assert.is(distIsCurrent(root), false);
});

test.run();
