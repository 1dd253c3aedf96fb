// bin/materialize.js starts dist/ only when it is current: built after the last change to
// any TypeScript source it compiles. An edited source must never run stale.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain JavaScript module of bin/, without types
import { distIsCurrent, writeStamp } from '../../bin/compiled.js';
import { tempDir } from '../support/tmp.ts';

function project(): string {
  const root = tempDir('compiled');
  for (const d of ['runtime/cli', 'assets/pjm', 'serving', 'lib', 'dist']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['runtime/cli/main.ts', 'assets/pjm/config.ts', 'serving/main.ts', 'lib/code-location.ts']) writeFileSync(join(root, f), '// source\n');
  return root;
}

const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

test('dist/ is current only once built, and only until a source changes', () => {
  const root = project();
  assert.is(distIsCurrent(root), false, 'never built');
  writeStamp(root);
  const stamp = join(root, 'dist', '.built');
  at(stamp, 2_000_000_000);
  for (const f of ['runtime/cli/main.ts', 'assets/pjm/config.ts', 'serving/main.ts', 'lib/code-location.ts']) at(join(root, f), 1_900_000_000);
  assert.is(distIsCurrent(root), true);
  // A source edited after the build, however deep: run the sources.
  at(join(root, 'assets/pjm/config.ts'), 2_000_000_001);
  assert.is(distIsCurrent(root), false);
  at(join(root, 'assets/pjm/config.ts'), 1_900_000_000);
  // A new source file counts too.
  writeFileSync(join(root, 'lib/new-module.ts'), '// new\n');
  at(join(root, 'lib/new-module.ts'), 2_000_000_005);
  assert.is(distIsCurrent(root), false);
});

test.run();
