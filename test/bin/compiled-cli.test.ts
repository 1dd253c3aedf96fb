// The precompiled CLI (dist/, what users start) and the sources (what developers edit and
// tests run) must behave alike: a no-op `materialize` of the same fresh store, started once
// from each, prints the same events but for the run's id and times.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
// @ts-expect-error: a plain JavaScript module of bin/, without types
import { distIsCurrent } from '../../bin/compiled.js';
import { PROJECT_ROOT, runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const SOURCE_DEFS = 'bench/fixtures/synthetic-defs.ts';
/** The same definitions compiled by `npm run build` (tsconfig.build.json includes bench/fixtures). */
const COMPILED_DEFS = 'dist/bench/fixtures/synthetic-defs.js';
const env = { SYNTH_ASSETS: '120', SYNTH_PARTITIONS: '5' };

/** The run's events without what differs between any two runs: ids, clocks and durations. */
function comparable(stdout: string): unknown[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const { runId: _r, ts: _t, durationMs: _d, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return rest;
    });
}

test('a no-op run prints the same from dist/ as from the sources', async () => {
  if (!distIsCurrent()) execFileSync(process.execPath, ['bin/build.js'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  assert.ok(distIsCurrent(), 'npm run build leaves dist/ current');
  const dir = tempDir('compiled-cli');
  const first = await runCli(['--definitions', SOURCE_DEFS, '--data-dir', dir, '--json'], env);
  assert.is(first.code, 0, first.stderr);

  const compiled = await runCli(['--definitions', COMPILED_DEFS, '--data-dir', dir, '--json'], env);
  const source = await runCli(['--definitions', SOURCE_DEFS, '--data-dir', dir, '--json'], { ...env, MATERIALIZE_FROM_SOURCE: '1' });
  assert.is(compiled.code, 0, compiled.stderr);
  assert.is(source.code, 0, source.stderr);
  const events = comparable(compiled.stdout);
  const finished = events.at(-1) as { type: string; counts: { materialized: number; skipped: number } };
  assert.is(finished.type, 'run_finished');
  assert.is(finished.counts.materialized, 0, 'the store was fresh: nothing ran');
  assert.is(finished.counts.skipped, 120 + 5 + 1, 'every step skipped: 120 assets, 5 daily partitions, their consumer');
  assert.equal(events, comparable(source.stdout));
  assert.is(compiled.stderr, source.stderr);
});

test.run();
