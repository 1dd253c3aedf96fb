// Which days a run covers and which it tests on: for Data Miner exports, the span of the files
// found (complete EPT days of each feed used, and their overlap), said in words; the live
// source's trailing window; PJM_BACKTEST_START/END/DAYS, validated like every PJM_* setting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPjmConfig, PjmConfigError, type BacktestPeriodSetting } from '../../assets/pjm/config.ts';
import { resolvePjmConfig } from '../../assets/pjm/data-span.ts';
import { testPeriod } from '../../assets/pjm/model-assets.ts';

const NOW = new Date('2026-11-27T12:00:00Z');
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pjm/${name}`, import.meta.url));
const ALDENE = ['aldene_rt_hrl_lmps.csv', 'aldene_da_hrl_lmps.csv', 'aldene_hrl_load_metered.csv'];
const dirs: string[] = [];

/** A PJM_CSV_DIR holding the ALDENE November excerpts, each optionally rewritten by `edit` (header kept). */
function csvDir(edit: Partial<Record<string, (rows: string[]) => string[]>> = {}, names = ALDENE): string {
  const dir = mkdtempSync(join(tmpdir(), 'pjm-spans-'));
  dirs.push(dir);
  for (const name of names) {
    const change = edit[name];
    if (!change) {
      copyFileSync(fixture(`aldene-2025-11/${name}`), join(dir, name));
      continue;
    }
    const [header, ...rows] = readFileSync(fixture(`aldene-2025-11/${name}`), 'utf8')
      .split('\r\n')
      .filter((l) => l !== '');
    writeFileSync(join(dir, name), [header, ...change(rows)].join('\r\n') + '\r\n');
  }
  return dir;
}
test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const env = (dir: string, extra: Record<string, string> = {}) => ({ PJM_SOURCE: 'dataminer-csv', PJM_CSV_DIR: dir, PJM_NODES: '48592:ALDENE', ...extra });
/** EPT day (M/D/YYYY) of an export row. */
const eptDay = (row: string): string => row.split(',')[1]!.split(' ')[0]!;

test('dataminer-csv without PJM_START/PJM_END: the span of the exports, per feed and their overlap, in words', async () => {
  const c = await resolvePjmConfig(env(csvDir()), NOW);
  assert.equal([c.start, c.end], ['2025-11-01', '2025-11-10']);
  assert.match(
    c.spanOrigin,
    /overlap of the exports in .*da_hrl_lmps 2025-11-01\.\.2025-11-10, rt_hrl_lmps 2025-11-01\.\.2025-11-10, hrl_load_metered 2025-11-01\.\.2025-11-10/,
  );
});

test('feeds of different spans: their overlap; a partial last day (3 of 24 hours) is not a day of data', async () => {
  const dir = csvDir({
    // DA from 11/2 to 11/9, then the first three hours of 11/10.
    'aldene_da_hrl_lmps.csv': (rows) =>
      rows.filter((r) => eptDay(r) !== '11/1/2025' && (eptDay(r) !== '11/10/2025' || / (12|1|2):00:00 AM$/.test(r.split(',')[1]!))),
    'aldene_hrl_load_metered.csv': (rows) => rows.filter((r) => eptDay(r) !== '11/10/2025'),
  });
  const c = await resolvePjmConfig(env(dir), NOW);
  assert.equal([c.start, c.end], ['2025-11-02', '2025-11-09']);
  assert.match(c.spanOrigin, /da_hrl_lmps 2025-11-02\.\.2025-11-09, rt_hrl_lmps 2025-11-01\.\.2025-11-10, hrl_load_metered 2025-11-01\.\.2025-11-09/);
  // Only the configured markets' feeds count: RT alone (with the metered load) spans 11-01..11-09.
  const rt = await resolvePjmConfig(env(dir, { PJM_MARKETS: 'rt' }), NOW);
  assert.equal([rt.start, rt.end], ['2025-11-01', '2025-11-09']);
  // One side set: the other from the files.
  const fromStart = await resolvePjmConfig(env(dir, { PJM_START: '2025-11-05' }), NOW);
  assert.equal([fromStart.start, fromStart.end], ['2025-11-05', '2025-11-09']);
  assert.match(fromStart.spanOrigin, /^PJM_START, and the overlap/);
});

test('the hub excerpts (12 hubs, 2 days): their own span, not a hard-coded one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pjm-spans-hubs-'));
  dirs.push(dir);
  for (const f of ['hubs_rt_hrl_lmps.csv', 'hubs_da_hrl_lmps.csv']) copyFileSync(fixture(f), join(dir, f));
  const c = await resolvePjmConfig({ PJM_SOURCE: 'dataminer-csv', PJM_CSV_DIR: dir }, NOW);
  assert.equal([c.start, c.end], ['2025-05-01', '2025-05-02']);
  assert.is(c.nodes.length, 12);
});

test("nodes from the exports: PJM_NODES unset means every node in every market's export, named, and said; a configured node the exports lack is one error before any work", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pjm-nodes-'));
  dirs.push(dir);
  for (const f of ['hubs3_rt_hrl_lmps.csv', 'hubs3_da_hrl_lmps.csv']) copyFileSync(fixture(`hubs3-2025-05/${f}`), join(dir, f));
  const c = await resolvePjmConfig({ PJM_SOURCE: 'dataminer-csv', PJM_CSV_DIR: dir }, NOW);
  assert.equal(
    c.nodes.map((n) => n.id),
    [51217, 51288, 4669664].sort((a, b) => a - b),
    'the three hubs of the excerpt, not the 12 defaults',
  );
  assert.ok(
    c.nodes.every((n) => n.name?.endsWith('HUB') === true),
    'names from pnode_name',
  );
  assert.match(c.nodesOrigin, /the 3 node\(s\) in every market's export in .* \(da 3, rt 3\)/);
  // Ids only: the names come from the export.
  const given = await resolvePjmConfig({ PJM_SOURCE: 'dataminer-csv', PJM_CSV_DIR: dir, PJM_NODES: '51288' }, NOW);
  assert.equal(given.nodes, [{ id: 51288, name: 'WESTERN HUB' }]);
  assert.is(given.nodesOrigin, 'PJM_NODES');
  await assertRejects(
    () => resolvePjmConfig({ PJM_SOURCE: 'dataminer-csv', PJM_CSV_DIR: dir, PJM_NODES: '51288,34497127' }, NOW),
    'PJM_NODES',
    /not: 34497127 \(no da rows\), 34497127 \(no rt rows\).*or unset PJM_NODES/,
  );
  // A node in one market's export only is left out of the default, and named.
  const rtRows = readFileSync(join(dir, 'hubs3_rt_hrl_lmps.csv'), 'utf8').split('\n');
  writeFileSync(join(dir, 'hubs3_rt_hrl_lmps.csv'), rtRows.filter((r) => !r.includes(',4669664,')).join('\n'));
  const partial = await resolvePjmConfig({ PJM_SOURCE: 'dataminer-csv', PJM_CSV_DIR: dir }, NOW);
  assert.equal(
    partial.nodes.map((n) => n.id),
    [51217, 51288],
  );
  assert.match(partial.nodesOrigin, /\(da 3, rt 2\); left out, in some market's export only: 4669664/);
});

test('PJM_MARKETS unset: the markets the exports hold, said in words; set, it is kept', async () => {
  const rtOnly = await resolvePjmConfig(env(csvDir({}, ['aldene_rt_hrl_lmps.csv'])), NOW);
  assert.equal(rtOnly.markets, ['rt']);
  assert.match(rtOnly.marketsOrigin, /the LMP exports in .* \(rt: 1 file\(s\); no \*_da_hrl_lmps\.csv, so no da market\)/);
  assert.equal([rtOnly.start, rtOnly.end], ['2025-11-01', '2025-11-10']);
  const daOnly = await resolvePjmConfig(env(csvDir({}, ['aldene_da_hrl_lmps.csv', 'aldene_hrl_load_metered.csv'])), NOW);
  assert.equal(daOnly.markets, ['da']);
  const both = await resolvePjmConfig(env(csvDir()), NOW);
  assert.equal(both.markets, ['da', 'rt']);
  assert.match(both.marketsOrigin, /\(da: 1 file\(s\), rt: 1 file\(s\)\)$/);
  const given = await resolvePjmConfig(env(csvDir(), { PJM_MARKETS: 'rt' }), NOW);
  assert.equal([given.markets, given.marketsOrigin], [['rt'], 'PJM_MARKETS']);
});

test('PJM_LOAD_AREAS unset: the areas of the metered-load export (RTO when it has it), said in words; set, it is kept', async () => {
  const aeco = await resolvePjmConfig(env(csvDir()), NOW);
  assert.equal(aeco.loadAreas, ['AECO']);
  assert.match(aeco.loadAreasOrigin, /the metered-load export in .* \(areas AECO; no RTO, so every area it holds\)/);
  const withRto = await resolvePjmConfig(
    env(csvDir({ 'aldene_hrl_load_metered.csv': (rows) => [...rows, ...rows.map((r) => r.replace(',AECO,', ',RTO,'))] })),
    NOW,
  );
  assert.equal([withRto.loadAreas, /areas AECO, RTO; RTO, the system load, used/.test(withRto.loadAreasOrigin)], [['RTO'], true]);
  const given = await resolvePjmConfig(env(csvDir(), { PJM_LOAD_AREAS: 'PSEG' }), NOW);
  assert.equal([given.loadAreas, given.loadAreasOrigin], [['PSEG'], 'PJM_LOAD_AREAS']);
  const noLoad = await resolvePjmConfig(env(csvDir({}, ['aldene_rt_hrl_lmps.csv'])), NOW);
  assert.equal(noLoad.loadAreas, ['RTO']);
  assert.match(noLoad.loadAreasOrigin, /the default \(RTO\), unused: .* has no metered-load export/);
});

test('span errors name the variable: a configured market without an export, feeds that never overlap, the sync loader without a span', async () => {
  const rtOnly = csvDir({}, ['aldene_rt_hrl_lmps.csv']);
  await assertRejects(() => resolvePjmConfig(env(rtOnly, { PJM_MARKETS: 'da,rt' }), NOW), 'PJM_MARKETS', /no \*_da_hrl_lmps\.csv/);
  const loadOnly = csvDir({}, ['aldene_hrl_load_metered.csv']);
  await assertRejects(() => resolvePjmConfig(env(loadOnly), NOW), 'PJM_CSV_DIR', /at least one LMP export .* only metered load/);
  const apart = csvDir({
    'aldene_rt_hrl_lmps.csv': (rows) => rows.filter((r) => ['11/1/2025', '11/2/2025'].includes(eptDay(r))),
    'aldene_da_hrl_lmps.csv': (rows) => rows.filter((r) => ['11/8/2025', '11/9/2025'].includes(eptDay(r))),
  });
  await assertRejects(() => resolvePjmConfig(env(apart), NOW), 'PJM_CSV_DIR', /do not overlap/);
  await assertRejects(async () => loadPjmConfig(env(rtOnly), NOW), 'PJM_START', /span read from the exports/);
  // PJM_START after the files' last day.
  await assertRejects(() => resolvePjmConfig(env(csvDir(), { PJM_START: '2025-12-01' }), NOW), 'PJM_START', /on or before the end of the data \(2025-11-10/);
});

async function assertRejects(run: () => Promise<unknown>, variable: string, message: RegExp): Promise<void> {
  try {
    await run();
    assert.unreachable(`expected ${variable} to be rejected`);
  } catch (e) {
    assert.instance(e, PjmConfigError);
    assert.is((e as PjmConfigError).variable, variable);
    assert.match((e as Error).message, message);
  }
}

test('PJM_BACKTEST_START/END/DAYS: parsed, and validated against the span like the other settings', async () => {
  const base = { PJM_START: '2025-05-01', PJM_END: '2025-07-31' };
  assert.equal(loadPjmConfig(base, NOW).backtest, { start: null, end: null, days: null });
  assert.equal(loadPjmConfig({ ...base, PJM_BACKTEST_DAYS: '28' }, NOW).backtest, { start: null, end: null, days: 28 });
  assert.equal(loadPjmConfig({ ...base, PJM_BACKTEST_START: '2025-07-01', PJM_BACKTEST_END: '2025-07-20' }, NOW).backtest, {
    start: '2025-07-01',
    end: '2025-07-20',
    days: null,
  });
  const bad: Array<[Record<string, string>, string, RegExp]> = [
    [{ PJM_BACKTEST_DAYS: '2.5' }, 'PJM_BACKTEST_DAYS', /positive integer/],
    [{ PJM_BACKTEST_DAYS: '7', PJM_BACKTEST_START: '2025-07-01' }, 'PJM_BACKTEST_DAYS', /unset when PJM_BACKTEST_START is set/],
    [{ PJM_BACKTEST_START: '2025-07-32' }, 'PJM_BACKTEST_START', /YYYY-MM-DD/],
    [{ PJM_BACKTEST_START: '2025-05-01' }, 'PJM_BACKTEST_START', /within the data's span 2025-05-01\.\.2025-07-31, after its first day/],
    [{ PJM_BACKTEST_END: '2025-08-15' }, 'PJM_BACKTEST_END', /within the data's span/],
    [{ PJM_BACKTEST_START: '2025-07-10', PJM_BACKTEST_END: '2025-07-01' }, 'PJM_BACKTEST_END', /on or after PJM_BACKTEST_START/],
  ];
  for (const [extra, variable, message] of bad) await assertRejects(async () => loadPjmConfig({ ...base, ...extra }, NOW), variable, message);
});

test('the test period: the last N days, START..END, END clipped to the features, the default rules otherwise', () => {
  const none: BacktestPeriodSetting = { start: null, end: null, days: null };
  const csv = (backtest: typeof none) => ({ source: 'dataminer-csv' as const, backtest });
  // Features 2025-05-08..2025-07-31 (85 days): by default the last fifth (17 days).
  assert.equal(testPeriod(csv(none), '2025-05-08', '2025-07-31'), {
    testFirstDay: '2025-07-15',
    testLastDay: '2025-07-31',
    origin: 'the last fifth of 2025-05-08..2025-07-31',
  });
  assert.equal(testPeriod(csv({ ...none, days: 42 }), '2025-05-08', '2025-07-31'), {
    testFirstDay: '2025-06-20',
    testLastDay: '2025-07-31',
    origin: 'PJM_BACKTEST_DAYS=42',
  });
  assert.equal(testPeriod(csv({ ...none, days: 7, end: '2025-07-20' }), '2025-05-08', '2025-07-31').testFirstDay, '2025-07-14');
  const clipped = testPeriod(csv({ start: '2025-07-01', end: '2025-08-10', days: null }), '2025-05-08', '2025-07-31');
  assert.equal([clipped.testFirstDay, clipped.testLastDay], ['2025-07-01', '2025-07-31']);
  assert.match(clipped.origin, /PJM_BACKTEST_END 2025-08-10 clipped/);
  assert.throws(() => testPeriod(csv({ ...none, days: 90 }), '2025-05-08', '2025-07-31'), /needs earlier days to train on/);
  // epftoolbox keeps its standard period unless told otherwise.
  assert.equal(testPeriod({ source: 'epftoolbox', backtest: none }, '2013-01-08', '2018-12-24'), {
    testFirstDay: '2016-12-27',
    testLastDay: '2018-12-24',
    origin: 'the epftoolbox test period',
  });
  assert.equal(testPeriod({ source: 'epftoolbox', backtest: { ...none, days: 28 } }, '2013-01-08', '2018-12-24').testFirstDay, '2018-11-27');
});

test.run();
