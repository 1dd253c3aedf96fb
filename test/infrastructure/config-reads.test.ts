// Configuration is read in one place each and passed on as values: no source writes a
// variable into process.env for another module to read (the CLI and the server once set
// DATA_DIR so that the definitions could see it), and the PJM pipeline's PJM_* variables are
// read only in assets/pjm/config.ts. Scans runtime/, assets/, serving/, lib/ and bin/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'vendor' ? [] : sources(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

/** `file:line: text` of every line matching `re` in the project's sources. */
function lines(re: RegExp, keep: (file: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const dir of ['runtime', 'assets', 'serving', 'lib', 'bin']) {
    for (const path of sources(join(root, dir))) {
      const file = relative(root, path);
      if (!keep(file)) continue;
      for (const [i, line] of readFileSync(path, 'utf8').split('\n').entries()) if (re.test(line)) out.push(`${file}:${i + 1}: ${line.trim()}`);
    }
  }
  return out;
}

// `process.env.X =`, `process.env['X'] =`, `Object.assign(process.env`, `delete process.env.X`.
const ENV_WRITE = /process\.env(?:\.[A-Za-z_]\w*|\[[^\]]+\])\s*(?:\?\?|\|\||&&)?=(?!=)|Object\.assign\(\s*process\.env|delete\s+process\.env/;
const PJM_READ = /(?:process\.env|\benv)(?:\.PJM_\w+|\[['"]PJM_\w+['"]\])/;

test('the scans find what they look for (they are not checking nothing)', () => {
  assert.ok(ENV_WRITE.test('process.env.DATA_DIR = settings.dataDir;'));
  assert.ok(ENV_WRITE.test("process.env['DATA_DIR'] ??= dir;"));
  assert.not.ok(ENV_WRITE.test('if (process.env.DEBUG === "1")'));
  assert.ok(PJM_READ.test('const v = env.PJM_BACKTEST_RECALIBRATION?.trim();'));
  assert.ok(lines(PJM_READ).length > 0, 'no PJM_* read found anywhere, not even in assets/pjm/config.ts');
});

// The one write allowed: libgomp (pulled in by libxgboost) reads OMP_WAIT_POLICY from the C
// environment when it loads, and no JavaScript module reads it back.
const FOR_NATIVE_LIBRARIES = [/^lib\/xgboost\/native\.ts:\d+: process\.env\['OMP_WAIT_POLICY'\] \?\?= 'passive';$/];

test('no source writes the environment for another module to read', () => {
  assert.equal(lines(ENV_WRITE).filter((l) => !FOR_NATIVE_LIBRARIES.some((re) => re.test(l))), []);
});

test('PJM_* are read only in assets/pjm/config.ts', () => {
  assert.equal(lines(PJM_READ, (file) => file !== 'assets/pjm/config.ts'), []);
});

test.run();
