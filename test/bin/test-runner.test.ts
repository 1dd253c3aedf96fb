// bin/test.js fails a test file that hangs instead of hanging CI: after TEST_FILE_TIMEOUT_S it
// kills the file's process (and what it started), names the file, and counts it failed.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../..', import.meta.url).pathname;
const FIXTURE = 'test/fixtures/runner/hangs.test.ts';

test('a file still running after TEST_FILE_TIMEOUT_S is killed, named and counted failed', () => {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['bin/test.js', FIXTURE], {
    cwd: root,
    env: { ...process.env, TEST_FILE_TIMEOUT_S: '2', RUNNER_FIXTURE_HANG: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, `${FIXTURE} was still running after 2 s (TEST_FILE_TIMEOUT_S) and was killed: it counts as failed.`);
  assert.match(r.stdout, `FAIL ${FIXTURE}`);
  assert.ok(r.stdout.trimEnd().endsWith('0 passed, 1 failed'), r.stdout);
  assert.ok(Date.now() - started < 30_000, 'the runner waited for the hung file far past its timeout');
});

test('the same file, not asked to hang, passes (the timeout is what failed it)', () => {
  const r = spawnSync(process.execPath, ['bin/test.js', FIXTURE], {
    cwd: root,
    env: { ...process.env, TEST_FILE_TIMEOUT_S: '60' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.ok(r.stdout.trimEnd().endsWith('1 passed, 0 failed'), r.stdout);
});

test.run();
