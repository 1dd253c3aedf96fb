// A stored file that is not what the store says (truncated on disk): `verify` finds it, the
// store marks it corrupt so `status` says so in words and the planner rewrites it, a step that
// fails reading it names it, and `--force` rewrites it even though a file of that content
// address exists.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const DEFS = 'test/fixtures/runtime/example-defs.ts';

async function freshStore(label: string): Promise<{ dir: string; cli: (args: string[]) => ReturnType<typeof runCli> }> {
  const dir = tempDir(label);
  const cli = (args: string[]) => runCli(['--definitions', DEFS, '--data-dir', dir, ...args]);
  const r = await cli([]);
  assert.is(r.code, 0, r.stderr);
  return { dir, cli };
}

function readingsFile(dir: string, day: string): { path: string; version: string } {
  const folder = join(dir, 'assets', 'example', 'readings', day);
  const name = readdirSync(folder).find((f) => f.endsWith('.parquet'))!;
  return { path: join(folder, name), version: name.replace('.parquet', '') };
}

const hashOf = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);

test('verify reports a truncated file, status shows it CORRUPT with the cause in words, a plain rerun repairs it', async () => {
  const { dir, cli } = await freshStore('verify');
  const file = readingsFile(dir, '2024-01-03');
  truncateSync(file.path, 100);

  const v = await cli(['verify']);
  assert.is(v.code, 1, 'a bad file makes verify exit 1');
  assert.match(
    v.stdout,
    new RegExp(
      `CORRUPT example/readings\\[2024-01-03\\] example/readings/2024-01-03/${file.version}.parquet: expected data version ${file.version}, found ${hashOf(file.path)}`,
    ),
  );
  assert.match(v.stdout, /22 current files checked, 1 bad/);
  const json = JSON.parse((await cli(['verify', 'example/readings', '-p', '2024-01-01...2024-01-05', '--json'])).stdout);
  assert.is(json.checked, 5);
  assert.equal(
    json.bad.map((b: { partition: string; reason: string }) => [b.partition, b.reason]),
    [['2024-01-03', 'mismatch']],
  );

  const status = await cli(['status']);
  assert.match(status.stdout, /example\/readings\s+CORRUPT\s+9\/1\/0/);
  assert.match(status.stdout, /the stored file is corrupt: its content hashes to \w{8}, not to its data version \w{8} \(found by materialize verify/);
  const statusJson = JSON.parse((await cli(['status', '--json'])).stdout) as { asset: string; corrupt: number; status: string }[];
  assert.is(statusJson.find((s) => s.asset === 'example/readings')!.corrupt, 1);
  const show = await cli(['show', 'example/readings', '-p', '2024-01-03']);
  assert.match(show.stdout, /STALE/);
  assert.match(show.stdout, /stale: the stored file is corrupt/);

  const plan = await cli(['--dry-run']);
  assert.match(plan.stdout, /run\s+example\/readings\[2024-01-03\]: stale: the stored file is corrupt/);
  const rerun = await cli([]);
  assert.is(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stdout, /example\/readings\[2024-01-03\]: materialized \w+ \(data unchanged; the corrupt stored file was rewritten\)/);
  assert.is(hashOf(file.path), file.version, 'the file holds its data version again');
  assert.is((await cli(['verify'])).code, 0);
  const after = JSON.parse((await cli(['status', '--json'])).stdout) as { status: string; corrupt: number }[];
  assert.ok(
    after.every((s) => s.status === 'FRESH' && s.corrupt === 0),
    'the mark cleared with the good version',
  );
});

test('--force rewrites a damaged file although a file with its content address exists', async () => {
  const { dir, cli } = await freshStore('force');
  const file = readingsFile(dir, '2024-01-05');
  truncateSync(file.path, 64);
  const forced = await cli(['example/readings', '-p', '2024-01-05', '--force']);
  assert.is(forced.code, 0, forced.stderr);
  assert.is(hashOf(file.path), file.version, 'the corrupt file was replaced, not trusted for its name');
  assert.is((await cli(['verify'])).code, 0);
});

test('a step that fails reading a corrupt input names it and marks it; the next run repairs it', async () => {
  const { dir, cli } = await freshStore('step-read');
  const file = readingsFile(dir, '2024-01-04');
  truncateSync(file.path, 100);
  const r = await cli(['example/rolling', '-p', '2024-01-04', '--force']);
  assert.is(r.code, 1);
  assert.match(
    r.stderr,
    /example\/rolling\[2024-01-04\]: .* input example\/readings\[2024-01-04\] example\/readings\/2024-01-04\/\w+\.parquet: expected data version \w+, found \w+\. It is marked corrupt/,
  );
  assert.not.match(r.stdout, /retrying/, 'no retry against a bad file');
  const status = await cli(['status', 'example/readings']);
  assert.match(status.stdout, /CORRUPT .*found by a step reading it/);
  const rerun = await cli([]);
  assert.is(rerun.code, 0, rerun.stderr);
  assert.is(hashOf(file.path), file.version);
  assert.is((await cli(['verify'])).code, 0);
});

test.run();
