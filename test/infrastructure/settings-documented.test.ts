// Every environment variable the code reads is in a configuration table of README.md or
// infrastructure/README.md (a row naming it in backticks): one place a user looks them up.
// The names come from the sources (runtime/, assets/, serving/, lib/, bin/): `process.env.X`,
// `process.env['X']`, `env.X`, `env['X']` and the config helpers' `(env, 'X'` calls.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const READ = /(?:process\.env|\benv)(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\])|\(env, ['"]([A-Z][A-Z0-9_]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'vendor' ? [] : sources(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

/** Variable name -> the files that read it. */
function variablesRead(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const dir of ['runtime', 'assets', 'serving', 'lib', 'bin']) {
    for (const file of sources(join(root, dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(READ)) {
        const name = (m[1] ?? m[2] ?? m[3])!;
        out.set(name, [...(out.get(name) ?? []), relative(root, file)]);
      }
    }
  }
  return out;
}

/** Names in backticks on the table rows of the two READMEs. */
function documented(): Set<string> {
  const names = new Set<string>();
  for (const doc of ['README.md', 'infrastructure/README.md']) {
    for (const line of readFileSync(join(root, doc), 'utf8').split('\n')) {
      if (!line.startsWith('|')) continue;
      for (const m of line.matchAll(/`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`/g)) names.add(m[1]!);
    }
  }
  return names;
}

test('the scan finds the variables it must (it is not checking nothing)', () => {
  const read = variablesRead();
  for (const name of ['DATA_DIR', 'PJM_SOURCE', 'LINEAGE_STORE', 'PORT']) assert.ok(read.has(name), `${name} not found in the sources`);
});

test('every variable the code reads has a row in a configuration table', () => {
  const docs = documented();
  const missing = [...variablesRead()].filter(([name]) => !docs.has(name)).map(([name, files]) => `${name} (read in ${[...new Set(files)].join(', ')})`);
  assert.equal(missing, []);
});

test.run();
