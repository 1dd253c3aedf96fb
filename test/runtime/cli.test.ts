// The CLI as a user drives it: exit codes and messages, status, show, lineage,
// runs, show-run, prune, dry-run — on the example definitions in test/fixtures.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';
const dir = tempDir('cli');
const cli = (args: string[], env: Record<string, string> = {}) => runCli(['--definitions', DEFS, '--data-dir', dir, ...args], env);

test('materialize everything, then a no-op run', async () => {
  const r = await cli([]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /run \S+ succeeded .*: 22 materialized/);
  assert.match(r.stdout, /example\/report:\ntotal = 2760/, 'asset summaries are printed at the end');
  const again = await cli(['--json']);
  assert.is(again.code, 0);
  const finished = JSON.parse(again.stdout.trim().split('\n').pop()!);
  assert.is(finished.type, 'run_finished');
  assert.is(finished.counts.materialized, 0);
});

test('status lists every asset with its partitions and why', async () => {
  const r = await cli(['status'], { EXAMPLE_TOTAL_VERSION: '7' });
  assert.is(r.code, 0);
  assert.match(r.stdout, /example\/readings\s+FRESH\s+10\/0\/0/);
  assert.match(r.stdout, /example\/total\s+STALE.*code version changed from 1 to 7/);
  assert.match(r.stdout, /example\/report\s+STALE.*upstream example\/total is stale/);
  const json = JSON.parse((await cli(['status', '--json'])).stdout);
  assert.equal(
    json.map((s: { asset: string; status: string }) => s.status),
    ['FRESH', 'FRESH', 'FRESH', 'FRESH'],
  );
});

test('dry run prints the plan and why', async () => {
  const r = await cli(['example/total+', '--dry-run'], { EXAMPLE_TOTAL_VERSION: '7' });
  assert.is(r.code, 0);
  assert.match(r.stdout, /run\s+example\/total: stale: code version changed from 1 to 7/);
  assert.match(r.stdout, /conditional example\/report: runs only if example\/total produces new data/);
});

test('backfill a partition range', async () => {
  const r = await cli(['example/readings', '--partition', '2024-01-02...2024-01-04', '--force']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /3 materialized \(3 unchanged\)/);
});

test('show, lineage, runs and show-run', async () => {
  const show = await cli(['show', 'example/total']);
  assert.is(show.code, 0);
  assert.match(show.stdout, /example\/total {2}FRESH/);
  assert.match(show.stdout, /"partitions": 10/);
  const lineage = await cli(['lineage', 'example/report']);
  assert.is(lineage.code, 0);
  assert.match(lineage.stdout, /consumed:\n {2}example\/total\n/);
  assert.match(lineage.stdout, /example\/readings — 10 partitions 2024-01-01 … 2024-01-10/);
  const runs = await cli(['runs', '--json']);
  const list = JSON.parse(runs.stdout);
  assert.ok(list.length >= 3);
  const showRun = await cli(['show-run', list.at(-1).id]);
  assert.is(showRun.code, 0);
  assert.match(showRun.stdout, /example\/report: check total_is_positive passed/);
});

test('usage errors exit 2 and say what was wrong', async () => {
  const unknown = await cli(['example/totl']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown asset "example\/totl". Did you mean "example\/total"/);
  const badSel = await cli(['example/total,,example/report']);
  assert.is(badSel.code, 2);
  assert.match(badSel.stderr, /empty term/);
  const badPartition = await cli(['example/readings', '--partition', '2024-1-5']);
  assert.is(badPartition.code, 2);
  assert.match(badPartition.stderr, /Invalid partition "2024-1-5": daily partitions are written YYYY-MM-DD/);
  const badFlag = await cli(['--frobnicate']);
  assert.is(badFlag.code, 2);
  assert.match(badFlag.stderr, /Unknown option '--frobnicate'/);
  const showUnknown = await cli(['show', 'nope']);
  assert.is(showUnknown.code, 2);
  const noRun = await cli(['show-run', 'r-does-not-exist']);
  assert.is(noRun.code, 2);
  assert.match(noRun.stderr, /No run r-does-not-exist/);
});

test('a failed blocking check exits 1, keeps the previous version and names the check', async () => {
  const before = JSON.parse((await cli(['show', 'example/report', '--json'])).stdout).materialization.id;
  const r = await cli(['example/report', '--force'], { EXAMPLE_FAIL_CHECK: '1' });
  assert.is(r.code, 1);
  assert.match(r.stderr, /example\/report: blocked by check total_is_positive: total 2760 is not positive/);
  const after = JSON.parse((await cli(['show', 'example/report', '--json'])).stdout).materialization.id;
  assert.is(after, before);
});

test('prune removes superseded versions but never current ones or their lineage', async () => {
  const r = await cli(['prune', '--older-than', '0m']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /Removed \d+ superseded materializations/);
  const status = JSON.parse((await cli(['status', '--json'])).stdout);
  assert.equal(
    status.map((s: { status: string }) => s.status),
    ['FRESH', 'FRESH', 'FRESH', 'FRESH'],
  );
  const lineage = await cli(['lineage', 'example/report']);
  assert.match(lineage.stdout, /example\/readings — 10 partitions/);
  // A malformed flag value is a usage error (exit 2), naming the flag.
  const bad = await cli(['prune', '--older-than', 'a month']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /Invalid age "a month" for --older-than/);
});

test.run();
