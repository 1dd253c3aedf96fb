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

// No exception, not even for OpenMP: OMP_WAIT_POLICY is read by the settings loader and handed
// to lib/xgboost's loader as an option (configureXGBoost), which puts it where libgomp reads it
// right before loading the library (test/xgboost/openmp.test.ts).
test('no source writes the environment for another module to read', () => {
  assert.equal(lines(ENV_WRITE), []);
});

// The runtime's own settings, read by its one loader (runtime/settings.ts, with the store
// target's parser in runtime/store/open-store.ts), and by bin/materialize.js, the launcher,
// which must know whether the definitions are TypeScript before any of the runtime loads.
const NAMES = 'DATA_DIR|ASSET_DEFINITIONS|LINEAGE_STORE|OMP_WAIT_POLICY';
const RUNTIME_READ = new RegExp(`(?:process\\.env|\\benv)(?:\\.(?:${NAMES})\\b|\\[['"](?:${NAMES})['"]\\])|\\(env, ['"](?:${NAMES})['"]`);
const RUNTIME_LOADER = ['runtime/settings.ts', 'runtime/store/open-store.ts', 'bin/materialize.js'];

test('DATA_DIR, ASSET_DEFINITIONS, LINEAGE_STORE and OMP_WAIT_POLICY are read only by the runtime settings loader', () => {
  assert.ok(RUNTIME_READ.test("const fromEnv = raw(env, 'DATA_DIR');") && RUNTIME_READ.test('process.env.ASSET_DEFINITIONS'));
  assert.ok(lines(RUNTIME_READ, (file) => file === 'runtime/settings.ts').length >= 3, 'runtime/settings.ts reads none of them');
  assert.equal(
    lines(RUNTIME_READ, (file) => !RUNTIME_LOADER.includes(file)),
    [],
  );
});

test('PJM_* are read only in assets/pjm/config.ts', () => {
  assert.equal(
    lines(PJM_READ, (file) => file !== 'assets/pjm/config.ts'),
    [],
  );
});

test.run();
