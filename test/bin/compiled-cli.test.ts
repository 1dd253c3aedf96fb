// The precompiled CLI (dist/, what users start) and the sources (what developers edit and
// tests run) must behave alike: a no-op `materialize` of the same fresh store, started once
// from each, prints the same events but for the run's id and times. And the bundle's worker
// threads start: their modules sit where lib/code-location.ts's workerSource looks for them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
// @ts-expect-error: a plain JavaScript module of bin/, without types
import { distIsCurrent } from '../../bin/compiled.js';
import { PROJECT_ROOT, runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const SOURCE_DEFS = 'bench/fixtures/synthetic-defs.ts';
/** The same definitions bundled by `npm run build` (bin/build.js has them among its entry points). */
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

test('every worker module the sources start (workerSource) is bundled at its path in dist/, and runs as a worker from there', async () => {
  if (!distIsCurrent()) execFileSync(process.execPath, ['bin/build.js'], { cwd: PROJECT_ROOT, stdio: 'ignore' });
  const named = ['lib', 'runtime', 'serving', 'assets'].flatMap((dir) =>
    readdirSync(join(PROJECT_ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(PROJECT_ROOT, dir, f), 'utf8').matchAll(/workerSource\('([^']+)'\)/g)].map((m) => m[1]!)),
  );
  assert.ok(named.includes('lib/xgboost/load-worker'), `workerSource calls found: ${named.join(', ')}`);
  for (const path of named)
    assert.ok(existsSync(join(PROJECT_ROOT, 'dist', `${path}.js`)), `dist/${path}.js is missing: add ${path}.ts to bin/build.js's entry points`);
  // The model loader's bundle, started as workerSource starts it from dist/: an empty load answers with no boosters.
  const worker = new Worker(`import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'dist/lib/xgboost/load-worker.js')).href)})`, {
    eval: true,
    workerData: [],
  });
  const message = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(message, { kind: 'done', handles: [] });
  await worker.terminate();
});

test.run();
