// Settings are checked once, at start, by the CLI and by `serve`: a bad value is one line on
// stderr naming the variable (or flag), the value and what it accepts, with exit code 2 and
// nothing started; a closed stdout pipe (`materialize show … | head`) ends the CLI quietly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuntimeSettings, prepareDataDir, SettingError } from '../../runtime/settings.ts';
import { runCli, startCli, type CliResult } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';
const dir = tempDir('settings');

/** Runs the CLI, killing it if it has not ended after 30 s (a hang is a failure, not a stuck suite). */
async function cliWithin(args: string[], env: Record<string, string | undefined>): Promise<CliResult & { killed: boolean }> {
  const { child, done } = startCli(args, env);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, 30_000);
  const r = await done;
  clearTimeout(timer);
  return { ...r, killed };
}

/** Exit 2, one line on stderr naming `variable` and `value`, no stack trace. */
function assertSettingError(r: CliResult & { killed: boolean }, variable: string, value: string, accepted: RegExp = /expected /): void {
  assert.not.ok(r.killed, `the process hung (stderr: ${r.stderr})`);
  assert.is(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.is(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.ok(lines[0]!.includes(`${variable}=${JSON.stringify(value)}`), `names ${variable}=${JSON.stringify(value)}: ${lines[0]}`);
  assert.match(lines[0]!, accepted);
}

test('the loader names the variable, the value and what it accepts', () => {
  const bad: [Record<string, string>, string][] = [
    [{ DUCKDB_THREADS: 'abc' }, 'DUCKDB_THREADS="abc" is not valid: expected a whole number from 1 to 256.'],
    [{ DUCKDB_THREADS: '0' }, 'DUCKDB_THREADS="0"'],
    [{ DUCKDB_MEMORY_LIMIT: 'lots' }, 'DUCKDB_MEMORY_LIMIT="lots" is not valid: expected a size with a unit'],
    [{ DUCKDB_MEMORY_LIMIT: '80%' }, 'DUCKDB_MEMORY_LIMIT="80%"'],
    [{ DUCKDB_MEMORY_LIMIT: '1MB' }, 'DUCKDB_MEMORY_LIMIT="1MB" is too small'],
    [{ DUCKDB_POOL_SIZE: '1.5' }, 'DUCKDB_POOL_SIZE="1.5"'],
  ];
  for (const [env, message] of bad) {
    try {
      loadRuntimeSettings(env);
      assert.unreachable(`accepted ${JSON.stringify(env)}`);
    } catch (e) {
      assert.instance(e, SettingError);
      assert.ok((e as Error).message.includes(message), (e as Error).message);
    }
  }
  const ok = loadRuntimeSettings({ DUCKDB_THREADS: '4', DUCKDB_MEMORY_LIMIT: '1.5GiB', DUCKDB_POOL_SIZE: '0', DATA_DIR: ' ' });
  assert.equal(ok.duckdb, { threads: 4, memoryLimit: '1.5GiB', poolSize: 0 });
  assert.is(ok.dataDirFrom, 'default', 'a blank DATA_DIR is unset, not the working directory');
  assert.is(loadRuntimeSettings({}, { dataDir: '/srv/x' }).dataDirFrom, '--data-dir');
});

test("one loader for the data dir, the lineage store, the definitions module and OpenMP's policy", () => {
  const defaults = loadRuntimeSettings({}, { dataDir: '/srv/x' });
  assert.equal(defaults.store, { kind: 'sqlite', path: '/srv/x/store/lineage.sqlite' }, 'the SQLite file under the data dir');
  assert.is(defaults.definitions, undefined, "the project's own definitions");
  assert.is(defaults.ompWaitPolicy, 'passive', 'idle OpenMP threads sleep unless asked otherwise');
  const env = { LINEAGE_STORE: 'postgres://app:pw@db/lineage', ASSET_DEFINITIONS: 'env-defs.ts', OMP_WAIT_POLICY: 'ACTIVE' };
  const set = loadRuntimeSettings(env, { definitions: 'flag-defs.ts' });
  assert.equal(set.store, { kind: 'postgres', url: 'postgres://app:pw@db/lineage' });
  assert.is(set.definitions, 'flag-defs.ts', '--definitions wins over ASSET_DEFINITIONS');
  assert.is(loadRuntimeSettings({ ASSET_DEFINITIONS: 'env-defs.ts' }).definitions, 'env-defs.ts');
  assert.is(set.ompWaitPolicy, 'active', 'read as OpenMP reads it, in either case');
  assert.throws(
    () => loadRuntimeSettings({ OMP_WAIT_POLICY: 'spin' }),
    (e: Error) => e instanceof SettingError && e.message === 'OMP_WAIT_POLICY="spin" is not valid: expected one of passive, active.',
  );
});

test('a data directory is created with its parents; a file in the way is named', () => {
  const nested = join(dir, 'a', 'b', 'c');
  prepareDataDir({ dataDir: nested, dataDirFrom: 'DATA_DIR' });
  const file = join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  assert.throws(
    () => prepareDataDir({ dataDir: join(file, 'data'), dataDirFrom: '--data-dir' }),
    /--data-dir=".*not-a-dir\/data" cannot be created: .*not-a-dir is not a directory/,
  );
});

test('CLI: bad DuckDB settings fail at start, naming the variable (not "Failed to set config" in every step)', async () => {
  assertSettingError(await cliWithin(['--definitions', DEFS, '--data-dir', dir], { DUCKDB_MEMORY_LIMIT: 'lots' }), 'DUCKDB_MEMORY_LIMIT', 'lots');
  assertSettingError(await cliWithin(['--definitions', DEFS, '--data-dir', dir], { DUCKDB_THREADS: 'abc' }), 'DUCKDB_THREADS', 'abc');
  assertSettingError(await cliWithin(['--definitions', DEFS, '--data-dir', dir, 'status'], { DUCKDB_POOL_SIZE: 'many' }), 'DUCKDB_POOL_SIZE', 'many');
});

test('CLI: numeric flags are checked (runs --limit abc was "datatype mismatch")', async () => {
  const r = await cliWithin(['--definitions', DEFS, '--data-dir', dir, 'runs', '--limit', 'abc'], {});
  assertSettingError(r, '--limit', 'abc');
  assertSettingError(await cliWithin(['--definitions', DEFS, '--data-dir', dir, 'lineage', 'example/total', '--depth', 'deep'], {}), '--depth', 'deep');
});

test('CLI: a DATA_DIR that cannot be a data directory is named, and never hangs', async () => {
  // Node's recursive mkdir never returned for this path: the CLI hung silently.
  const proc = await cliWithin(['--definitions', DEFS, 'status'], { DATA_DIR: '/proc/nope' });
  assertSettingError(proc, 'DATA_DIR', '/proc/nope');
  assert.match(proc.stderr, /cannot be created \(ENOENT creating \/proc\/nope\)/);
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'x');
  const r = await cliWithin(['--definitions', DEFS, 'status'], { DATA_DIR: file });
  assertSettingError(r, 'DATA_DIR', file);
  assert.match(r.stderr, /is not a directory/);
});

test('CLI: storage and pipeline (PJM_*) settings are usage errors too', async () => {
  assertSettingError(await cliWithin(['--definitions', DEFS, '--data-dir', dir, 'status'], { STORAGE: 'gcs' }), 'STORAGE', 'gcs', /one of: local, s3/);
  assertSettingError(await cliWithin(['--data-dir', dir, 'status'], { PJM_SOURCE: 'bogus', ASSET_DEFINITIONS: undefined }), 'PJM_SOURCE', 'bogus');
});

test('serve: bad PORT, HOST, LOG_LEVEL and DuckDB settings are one line and exit 2, before listening', async () => {
  const serve = (env: Record<string, string>) => cliWithin(['serve'], { ASSET_DEFINITIONS: DEFS, DATA_DIR: dir, SERVING_WARMUP_MS: '0', ...env });
  assertSettingError(await serve({ PORT: '70000' }), 'PORT', '70000');
  assertSettingError(await serve({ LOG_LEVEL: 'verbose' }), 'LOG_LEVEL', 'verbose');
  assertSettingError(await serve({ HOST: '999.1.1.1' }), 'HOST', '999.1.1.1');
  assertSettingError(await serve({ PORT: '0', DUCKDB_MEMORY_LIMIT: 'lots' }), 'DUCKDB_MEMORY_LIMIT', 'lots');
  assertSettingError(await serve({ PORT: '0', DATA_DIR: '/proc/nope' }), 'DATA_DIR', '/proc/nope');
});

test('CLI: a closed stdout (`materialize show … | head`) ends quietly with code 0', async () => {
  const first = await runCli(['--definitions', DEFS, '--data-dir', dir]);
  assert.is(first.code, 0, first.stderr);
  const { child, done } = startCli(['--definitions', DEFS, '--data-dir', dir, 'show', 'example/total']);
  child.stdout!.destroy(); // the reader went away before the first line
  const r = await done;
  assert.is(r.stderr, '', 'no EPIPE stack trace');
  assert.is(r.code, 0);
});

test.run();
