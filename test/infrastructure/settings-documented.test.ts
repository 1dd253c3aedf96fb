// Every environment variable the code reads is in README.md's one configuration table (the
// table of its "### Configuration" section, a row naming it in backticks): one place a user looks
// them up.
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

/** The rows of the one table in README.md's "### Configuration" section (it must have exactly one). */
function configurationTable(readme: string): string[] {
  const lines = readme.split('\n');
  const start = lines.indexOf('### Configuration');
  if (start < 0) throw new Error('README.md has no "### Configuration" section');
  const next = lines.findIndex((l, i) => i > start && /^#{1,3} /.test(l));
  const section = lines.slice(start + 1, next < 0 ? undefined : next);
  const tables: string[][] = [];
  for (const [i, line] of section.entries()) {
    if (!line.startsWith('|')) continue;
    if (i === 0 || !section[i - 1]!.startsWith('|')) tables.push([]);
    tables.at(-1)!.push(line);
  }
  if (tables.length !== 1) throw new Error(`README.md's "### Configuration" section has ${tables.length} tables; it must have one`);
  return tables[0]!.slice(2);
}

/** Names in backticks on the rows of README.md's configuration table. */
function documented(): Set<string> {
  const names = new Set<string>();
  for (const line of configurationTable(readFileSync(join(root, 'README.md'), 'utf8'))) {
    for (const m of line.matchAll(/`([A-Z][A-Z0-9_]+)(?:=[^`]*)?`/g)) names.add(m[1]!);
  }
  return names;
}

test('the scan finds the variables it must (it is not checking nothing)', () => {
  const read = variablesRead();
  for (const name of ['DATA_DIR', 'PJM_SOURCE', 'LINEAGE_STORE', 'PORT']) assert.ok(read.has(name), `${name} not found in the sources`);
});

test('the table is found, and a README with two tables in the section is refused', () => {
  assert.ok(documented().has('DATA_DIR'));
  assert.throws(() => configurationTable('### Configuration\n\n| a | b |\n| - | - |\n| `X` | x |\n\ntext\n\n| a | b |\n| - | - |\n'), /has 2 tables/);
});

test("every variable the code reads has a row in README.md's configuration table", () => {
  const docs = documented();
  const missing = [...variablesRead()].filter(([name]) => !docs.has(name)).map(([name, files]) => `${name} (read in ${[...new Set(files)].join(', ')})`);
  assert.equal(missing, []);
});

test.run();
