// OpenMP's idle policy reaches libgomp. libgomp reads OMP_WAIT_POLICY once, when libxgboost
// pulls it in, so the binding loads the library on first use (never on import) and puts the
// policy configured before (configureXGBoost, from the settings loader in the CLI and the
// server) into the C environment first. Each case runs in a fresh Node process, since a process
// loads libgomp once; with OMP_DISPLAY_ENV=VERBOSE libgomp prints, when it starts, the policy
// it read and the spin count that follows from it (0 for passive: idle threads sleep at once).
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const lib = new URL('../../lib/xgboost/index.ts', import.meta.url).href;
const model = new URL('../fixtures/xgboost/js-model.json', import.meta.url).pathname;

/** Runs `body` (an ES module, `xgb` being lib/xgboost) in a fresh process; its stdout and stderr. */
function run(body: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const { OMP_WAIT_POLICY: _inherited, ...base } = process.env;
  const script = `const xgb = await import(${JSON.stringify(lib)});\n${body}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...base, OMP_DISPLAY_ENV: 'VERBOSE', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What libgomp printed when it started: its wait policy and spin count; undefined when it never started. */
function openmpStart(stderr: string): { policy: string; spinCount: string } | undefined {
  const policy = /OMP_WAIT_POLICY = '(\w+)'/.exec(stderr)?.[1];
  const spinCount = /GOMP_SPINCOUNT = '(\d+)'/.exec(stderr)?.[1];
  return policy === undefined || spinCount === undefined ? undefined : { policy, spinCount };
}

const mapped = "(await import('node:fs')).readFileSync('/proc/self/maps', 'utf8').includes('libxgboost')";

test('importing the binding loads no native library; the first call does', () => {
  const r = run(`console.log(JSON.stringify({ onImport: ${mapped} })); xgb.xgboostVersion(); console.log(JSON.stringify({ afterCall: ${mapped} }));`);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, '{"onImport":false}');
  assert.match(r.stdout, '{"afterCall":true}');
});

test('nothing configured and nothing in the environment: passive (idle threads do not spin)', () => {
  const r = run('xgb.xgboostVersion();');
  assert.is(r.status, 0, r.stderr);
  assert.equal(openmpStart(r.stderr), { policy: 'PASSIVE', spinCount: '0' }, r.stderr);
});

test('the configured policy is the one libgomp starts with, over the environment', () => {
  const active = run("xgb.configureXGBoost({ ompWaitPolicy: 'active' }); xgb.xgboostVersion();", { OMP_WAIT_POLICY: 'passive' });
  assert.is(active.status, 0, active.stderr);
  assert.is(openmpStart(active.stderr)?.policy, 'ACTIVE', active.stderr);
  const passive = run("xgb.configureXGBoost({ ompWaitPolicy: 'passive' }); xgb.xgboostVersion();", { OMP_WAIT_POLICY: 'active' });
  assert.is(passive.status, 0, passive.stderr);
  assert.equal(openmpStart(passive.stderr), { policy: 'PASSIVE', spinCount: '0' }, passive.stderr);
});

test('unconfigured, the environment’s own policy is left as it is', () => {
  const r = run('xgb.xgboostVersion();', { OMP_WAIT_POLICY: 'active' });
  assert.is(r.status, 0, r.stderr);
  assert.is(openmpStart(r.stderr)?.policy, 'ACTIVE', r.stderr);
});

test('a model loaded off-thread first still starts libgomp with the configured policy (the main thread loads it)', () => {
  // A worker thread's process.env is its own copy: had the worker loaded the library first, its
  // setting would never have reached the C environment libgomp reads.
  const r = run(
    `xgb.configureXGBoost({ ompWaitPolicy: 'active' });
     const bytes = (await import('node:fs')).readFileSync(${JSON.stringify(model)});
     const [booster] = await xgb.loadBoostersOffThread([{ name: 'the fixture model', bytes }]);
     console.log('loaded', booster.numFeatures);`,
  );
  assert.is(r.status, 0, r.stderr);
  assert.is(openmpStart(r.stderr)?.policy, 'ACTIVE', r.stderr);
});

test('configuring another policy once the library is loaded is refused, naming why; the same one is accepted', () => {
  const r = run(
    `xgb.configureXGBoost({ ompWaitPolicy: 'passive' }); xgb.xgboostVersion();
     xgb.configureXGBoost({ ompWaitPolicy: 'passive' });
     try { xgb.configureXGBoost({ ompWaitPolicy: 'active' }); console.log('accepted'); } catch (e) { console.log(e.name + ': ' + e.message); }`,
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /XGBoostUsageError: configureXGBoost: libxgboost is already loaded with OMP_WAIT_POLICY=passive; OpenMP reads it only when it loads/);
});

test.run();
