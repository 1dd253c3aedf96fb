// Source data the revision rule cannot decide, and feeds that are absent, as a user meets them:
// a folder of Data Miner exports (the committed hub excerpts) with a second export that repeats
// some rows exactly and disagrees about one hour, materialized with the CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pjm/${name}`, import.meta.url));
const RT = fixture('hubs_rt_hrl_lmps.csv');
const lines = readFileSync(RT, 'utf8')
  .split('\r\n')
  .filter((l) => l !== '');
const header = lines[0]!;
// EASTERN HUB (51217) rows of 2025-05-01 EPT, in file order.
const eastern = lines.slice(1).filter((l) => l.split(',')[2] === '51217' && l.split(',')[1]!.startsWith('5/1/2025'));

/** A CSV folder: the real RT excerpt plus a second export of the given rows. */
function csvDir(label: string, extraRows: readonly string[]): string {
  const d = tempDir(label);
  copyFileSync(RT, join(d, 'hubs_rt_hrl_lmps.csv'));
  writeFileSync(join(d, 'second_rt_hrl_lmps.csv'), [header, ...extraRows].join('\r\n') + '\r\n');
  return d;
}

const env = (csv: string, data: string) => ({
  PJM_SOURCE: 'dataminer-csv',
  PJM_CSV_DIR: csv,
  PJM_MARKETS: 'rt',
  PJM_NODES: '51217',
  PJM_START: '2025-05-01',
  PJM_END: '2025-05-01',
  DATA_DIR: data,
});

test('two current rows for one hour with different LMPs block the day, naming both values and both files', async () => {
  const first = eastern[0]!.split(',');
  // The same hour, version and row_is_current, 10 $/MWh more energy (so lmp = energy + congestion + loss still holds).
  const other = [...first];
  other[8] = (Number(first[8]) + 10).toFixed(6);
  other[9] = (Number(first[9]) + 10).toFixed(6);
  const data = tempDir('conflict-data');
  const r = await runCli(['+pjm/validated/prices'], env(csvDir('conflict', [other.join(',')]), data));
  assert.is(r.code, 1, r.stdout + r.stderr);
  const blocked = r.stderr.split('\n').find((l) => l.includes('pjm/validated/prices[51217|2025-05-01]')) ?? '';
  assert.match(blocked, /blocked by check unique_node_market_hour: 1 \(node, market, hour\) key has current source rows with different values/);
  assert.ok(blocked.includes(`node 51217 rt 2025-05-01T04:00:00Z (2025-05-01T00:00 EPT (UTC-4))`), blocked);
  assert.ok(blocked.includes(`lmp ${Number(first[9])} (hubs_rt_hrl_lmps.csv, version_nbr 1, row_is_current)`), blocked);
  assert.ok(blocked.includes(`lmp ${Number(other[9])} (second_rt_hrl_lmps.csv, version_nbr 1, row_is_current)`), blocked);
  const status = JSON.parse((await runCli(['status', 'pjm/validated/prices', '--json'], env(csvDir('conflict2', [other.join(',')]), data))).stdout);
  assert.is(status[0].fresh, 0, 'nothing was published for the day');
});

test('a higher version_nbr decides between two values: no error, the revision counted', async () => {
  const first = eastern[1]!.split(',');
  const revised = [...first];
  revised[8] = (Number(first[8]) + 1).toFixed(6);
  revised[9] = (Number(first[9]) + 1).toFixed(6);
  revised[13] = '2';
  const data = tempDir('revision-data');
  const e = env(csvDir('revision', [revised.join(',')]), data);
  const r = await runCli(['+pjm/validated/prices'], e);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const show = JSON.parse((await runCli(['show', 'pjm/validated/prices', '-p', '2025-05-01', '--json'], e)).stdout);
  const check = show.checks.find((c: { name: string }) => c.name === 'unique_node_market_hour');
  assert.ok(check.passed);
  assert.match(check.message, /one row per \(node, market, hour\); from 25 source rows, 0 exact duplicates dropped and 1 superseded revision replaced/);
});

test('exact duplicates (the same rows in two exports) are dropped and counted in the check report', async () => {
  const data = tempDir('dups-data');
  const e = env(csvDir('dups', eastern.slice(0, 5)), data);
  const r = await runCli(['+pjm/validated/prices'], e);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const show = JSON.parse((await runCli(['show', 'pjm/validated/prices', '-p', '2025-05-01', '--json'], e)).stdout);
  const check = show.checks.find((c: { name: string }) => c.name === 'unique_node_market_hour');
  assert.ok(check.passed, check.message);
  assert.match(check.message, /from 29 source rows, 5 exact duplicates dropped and 0 superseded revisions replaced/);
  assert.is(check.metadata.details.exactDuplicatesDropped, 5);
  assert.is(show.materialization.metadata.rowCount, 24);
});

test('a folder with no load export: the load assets say "no load feed" (warned, not complete) and block nothing', async () => {
  const data = tempDir('noload-data');
  const e = env(csvDir('noload', []), data);
  const r = await runCli(['+pjm/validated/load'], e);
  assert.is(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /check load_feed warned: no load feed: PJM_CSV_DIR .* has no hrl_load_metered export/);
  const show = JSON.parse((await runCli(['show', 'pjm/validated/load', '-p', '2025-05-01', '--json'], e)).stdout);
  assert.is(show.materialization.metadata.loadFeed, 'absent');
  assert.is(show.materialization.metadata.rowCount, 0);
  const byName = new Map(show.checks.map((c: { name: string }) => [c.name, c]));
  const feed = byName.get('load_feed') as { passed: boolean; blocking: boolean } | undefined;
  assert.ok(feed && !feed.passed && !feed.blocking, 'load_feed is a failed warning');
  const completeness = byName.get('hourly_completeness') as { passed: boolean; message: string };
  assert.not.ok(completeness.passed, 'an empty load table is never reported complete');
  assert.match(completeness.message, /not evaluated: the source has no load feed/);
});

test('a load export without rows for a configured day blocks that day, naming the feed, the area and the day', async () => {
  const d = tempDir('gap');
  copyFileSync(fixture('aldene_rt_hrl_lmps.csv'), join(d, 'aldene_rt_hrl_lmps.csv'));
  const load = readFileSync(fixture('aldene_hrl_load_metered.csv'), 'utf8').split('\r\n');
  writeFileSync(join(d, 'aldene_hrl_load_metered.csv'), load.filter((l) => !l.split(',')[1]?.startsWith('11/2/2025')).join('\r\n'));
  const e = {
    PJM_SOURCE: 'dataminer-csv',
    PJM_CSV_DIR: d,
    PJM_MARKETS: 'rt',
    PJM_NODES: '48592',
    PJM_LOAD_AREAS: 'AECO',
    PJM_START: '2025-11-01',
    PJM_END: '2025-11-03',
    DATA_DIR: tempDir('gap-data'),
  };
  const r = await runCli(['+pjm/validated/load'], e);
  assert.is(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /pjm\/validated\/load\[2025-11-02\]: blocked by check expected_series: no load at all on 2025-11-02 for AECO metered \(feed: aldene_hrl_load_metered\.csv\)/,
  );
  assert.not.match(r.stderr, /2025-11-01\]: blocked|2025-11-03\]: blocked/);
});

test.run();
