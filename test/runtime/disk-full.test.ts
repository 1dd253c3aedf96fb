// A full disk: DATA_DIR on a 3 MB tmpfs, and a backfill that needs far more. The run must end
// with one clear message (what ran out, where, what to do), stop scheduling steps, print a few
// lines rather than one per step, never die of an uncaught error, and be recorded as failed
// (by itself, or by the next process when even that could not be written). Once space is
// back, a rerun completes.
//
// Needs to mount a tmpfs (root or CAP_SYS_ADMIN, as in CI); fails loudly when it cannot.
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const dir = tempDir('disk-full');
const env = { EXAMPLE_START: '2018-01-01', EXAMPLE_END: '2023-12-31' };
const cli = (args: string[]) => runCli(['--definitions', 'test/fixtures/runtime/example-defs.ts', '--data-dir', dir, ...args], env);

function mountTmpfs(size: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`This test mounts a ${size} tmpfs on ${dir} to fill it, which needs root or CAP_SYS_ADMIN: ${(err as Error).message}`);
  }
}

test('a full disk fails the run with one message, records it failed, and a rerun completes once space is back', async () => {
  mountTmpfs('3m');
  try {
    const r = await cli([]);
    const output = r.stdout + r.stderr;
    assert.is(r.code, 1, output.slice(-3000));
    assert.is(r.signal, null);
    assert.not.match(output, /Uncaught|SqliteError:|\n\s+at /, 'no uncaught error, no stack trace');
    assert.match(
      r.stderr,
      /The disk is full: writing .+ failed \(.*(No space left on device|database or disk is full).*\)\. The run stopped: no new step was started/,
    );
    assert.match(r.stderr, /Free space on the filesystem that holds .+ \(DATA_DIR\)/);
    const lines = output.trim().split('\n').length;
    assert.ok(
      lines < 400 && output.split('The disk is full').length - 1 <= 3,
      `${lines} lines; the message appears ${output.split('The disk is full').length - 1} times`,
    );
    const stepFailures = (r.stdout.match(/: FAILED after/g) ?? []).length;
    assert.ok(stepFailures <= 1, `${stepFailures} step failures printed; one is enough`);

    execFileSync('mount', ['-o', 'remount,size=256m', dir]);
    const rerun = await cli([]);
    assert.is(rerun.code, 0, rerun.stderr + rerun.stdout.slice(-2000));
    const runs = JSON.parse((await cli(['runs', '--json'])).stdout) as { status: string; error: string | null }[];
    assert.is(runs.length, 2);
    assert.is(runs[1]!.status, 'failed', 'the full-disk run is recorded as failed');
    assert.match(runs[1]!.error ?? '', /The disk is full|stopped without finishing/);
    assert.is(runs[0]!.status, 'succeeded');
  } finally {
    execFileSync('umount', ['-l', dir]);
  }
});

test.run();
