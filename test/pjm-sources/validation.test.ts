// The `validated` checks on canonical tables built from real fixtures: clean data passes, and each
// injected fault (schema, duplicate, missing hours, broken components, price out of range,
// negative load, stale data) is caught by the check meant for it, with the offending rows listed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { registerDataMinerLmpCsv, registerDataMinerLoadMeteredCsv } from '../../assets/pjm/sources/dataminer-csv.ts';
import { registerEpftoolbox } from '../../assets/pjm/sources/epftoolbox.ts';
import { writeCanonicalPrices, writeCanonicalLoad } from '../../assets/pjm/processed/index.ts';
import { validatePrices, validateLoad, describeFailures, type ValidationReport, type CheckResult } from '../../assets/pjm/validation/index.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pjm/${name}`, import.meta.url));
let dir: string;
let conn: DuckDBConnection;
let hubs: string;
let aldene: string;
let load: string;
let loadMarch: string;
let epf: string;
let epfNov: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pjm-val-'));
  conn = await (await DuckDBInstance.create(':memory:')).connect();
  await registerDataMinerLmpCsv(conn, [fixture('hubs_rt_hrl_lmps.csv')], 'rt', 'hub_rt');
  await registerDataMinerLmpCsv(conn, [fixture('hubs_da_hrl_lmps.csv')], 'da', 'hub_da');
  await registerDataMinerLmpCsv(conn, [fixture('aldene_rt_hrl_lmps.csv')], 'rt', 'aldene_rt');
  await registerDataMinerLoadMeteredCsv(conn, [fixture('aldene_hrl_load_metered.csv')], 'aldene_load');
  const e = await registerEpftoolbox(conn, fixture('epftoolbox_dst.csv'));
  hubs = (await writeCanonicalPrices(conn, ['hub_rt', 'hub_da'], join(dir, 'hubs.parquet'))).path;
  aldene = (await writeCanonicalPrices(conn, ['aldene_rt'], join(dir, 'aldene.parquet'), { range: { start: '2026-03-07', end: '2026-03-09' } })).path;
  load = (await writeCanonicalLoad(conn, ['aldene_load'], join(dir, 'load.parquet'), { range: { start: '2025-11-01', end: '2025-11-03' } })).path;
  loadMarch = (await writeCanonicalLoad(conn, ['aldene_load'], join(dir, 'load-march.parquet'), { range: { start: '2026-03-07', end: '2026-03-09' } })).path;
  // The fixtures hold two separate periods; each canonical file covers one, as a partition range would.
  epf = (await writeCanonicalPrices(conn, [e.relations.lmp], join(dir, 'epf.parquet'), { range: { start: '2013-03-09', end: '2013-03-11' } })).path;
  epfNov = (await writeCanonicalPrices(conn, [e.relations.lmp], join(dir, 'epf-nov.parquet'), { range: { start: '2013-11-02', end: '2013-11-04' } })).path;
});
test.after(async () => {
  conn.closeSync();
  await rm(dir, { recursive: true, force: true });
});

/** Writes a faulty copy of `src`: `select` reads `t` (the clean rows) and returns the bad table. */
let n = 0;
async function variant(src: string, select: string): Promise<string> {
  const out = join(dir, `variant-${++n}.parquet`);
  await conn.run(`COPY (WITH t AS (SELECT * FROM read_parquet('${src}')) ${select}) TO '${out}' (FORMAT parquet)`);
  return out;
}

const check = (r: ValidationReport, name: string): CheckResult => {
  const c = r.checks.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no check ${name} in ${r.checks.map((x) => x.name).join(', ')}`);
  return c;
};
const onlyFailure = (r: ValidationReport, name: string): void => {
  assert.is(r.passed, false);
  assert.equal(
    r.checks.filter((c) => !c.passed && c.severity === 'error').map((c) => c.name),
    [name],
    describeFailures(r).join('\n'),
  );
};

test('clean fixtures pass every check: hubs RT+DA, ALDENE RT across spring forward, epftoolbox DST days', async () => {
  for (const path of [hubs, aldene, epf, epfNov]) {
    const r = await validatePrices(conn, [path]);
    assert.ok(r.passed, describeFailures(r).join('\n'));
    assert.ok(r.checks.every((c) => c.passed));
    assert.equal(
      r.checks.map((c) => c.name),
      ['schema', 'keys_and_values', 'unique_node_market_hour', 'hourly_completeness', 'lmp_equals_components', 'price_range'],
    );
  }
  const r = await validatePrices(conn, [hubs], { expected: { start: '2025-05-01', end: '2025-05-02' } });
  assert.match(check(r, 'hourly_completeness').message, /2025-05-01T04:00:00Z to 2025-05-03T04:00:00Z/);
  assert.match(check(r, 'lmp_equals_components').message, /all 1152 rows/);
});

test('the whole bundled epftoolbox set (2013-01-01..2018-12-24) becomes canonical tables that pass validation', async () => {
  const s = await registerEpftoolbox(conn, fileURLToPath(new URL('../../data/epftoolbox/PJM.csv', import.meta.url)), {
    relations: { lmp: 'all_lmp', load: 'all_load' },
  });
  const p = (await writeCanonicalPrices(conn, [s.relations.lmp], join(dir, 'epf-all.parquet'))).path;
  const l = (await writeCanonicalLoad(conn, [s.relations.load], join(dir, 'epf-all-load.parquet'))).path;
  const rp = await validatePrices(conn, [p], { expected: { start: '2013-01-01', end: '2018-12-24', nodeIds: [33092371], markets: ['da'] } });
  assert.ok(rp.passed, describeFailures(rp).join('\n'));
  assert.ok(rp.checks.every((c) => c.passed));
  const rl = await validateLoad(conn, [l], { expected: { start: '2013-01-01', end: '2018-12-24' }, completenessSeverity: 'error' });
  assert.ok(rl.passed && rl.checks.every((c) => c.passed), describeFailures(rl).join('\n'));
});

test('schema: a mistyped or missing column fails and stops the other checks', async () => {
  const r = await validatePrices(conn, [await variant(hubs, `SELECT * REPLACE (CAST(lmp AS VARCHAR) AS lmp) FROM t`)]);
  onlyFailure(r, 'schema');
  assert.is(r.checks.length, 1);
  assert.match(r.checks[0]?.message ?? '', /missing or mistyped \[lmp DOUBLE\], unexpected \[lmp VARCHAR\]/);
  const r2 = await validatePrices(conn, [await variant(hubs, `SELECT * EXCLUDE (zone) FROM t`)]);
  onlyFailure(r2, 'schema');
});

test('a duplicate (node, market, hour) is caught', async () => {
  const r = await validatePrices(conn, [
    await variant(hubs, `SELECT * FROM t UNION ALL (SELECT * FROM t WHERE node_id = 51288 AND market = 'da' ORDER BY ts_utc LIMIT 1)`),
  ]);
  onlyFailure(r, 'unique_node_market_hour');
  assert.equal(check(r, 'unique_node_market_hour').details['duplicates'], [{ node_id: 51288, market: 'da', ts_utc: '2025-05-01T04:00:00Z', copies: 2 }]);
});

test('missing hours are listed per node and market', async () => {
  const r = await validatePrices(
    conn,
    [await variant(hubs, `SELECT * FROM t WHERE NOT (node_id = 4669664 AND market = 'rt' AND ts_utc IN ('2025-05-01 09:00:00+00', '2025-05-02 20:00:00+00'))`)],
    {
      expected: { start: '2025-05-01', end: '2025-05-02' },
    },
  );
  onlyFailure(r, 'hourly_completeness');
  assert.equal(check(r, 'hourly_completeness').details['missing'], [
    { nodeId: 4669664, market: 'rt', count: 2, hours: ['2025-05-01T09:00:00Z', '2025-05-02T20:00:00Z'] },
  ]);
});

test('an hour moved off the hour counts as missing (the row count alone would look complete)', async () => {
  const r = await validatePrices(
    conn,
    [
      await variant(
        hubs,
        `SELECT * REPLACE (CASE WHEN node_id = 4669664 AND market = 'rt' AND ts_utc = '2025-05-01 09:00:00+00' THEN ts_utc + INTERVAL 30 MINUTE ELSE ts_utc END AS ts_utc) FROM t`,
      ),
    ],
    {
      expected: { start: '2025-05-01', end: '2025-05-02' },
    },
  );
  assert.is(check(r, 'hourly_completeness').passed, false);
  assert.equal(check(r, 'hourly_completeness').details['missing'], [{ nodeId: 4669664, market: 'rt', count: 1, hours: ['2025-05-01T09:00:00Z'] }]);
  assert.is(check(r, 'keys_and_values').passed, false, 'and the off-hour row is named by its own check');
});

test('completeness against an expected range and node list: a day or node with no rows at all', async () => {
  const r = await validatePrices(conn, [hubs], { expected: { start: '2025-05-01', end: '2025-05-03', nodeIds: [51217], markets: ['da'] } });
  onlyFailure(r, 'hourly_completeness');
  const m = check(r, 'hourly_completeness').details['missing'] as { count: number; hours: string[] }[];
  assert.is(m[0]?.count, 24);
  assert.is(m[0]?.hours[0], '2025-05-03T04:00:00Z');
  // The spring-forward day has 23 real hours: not one is reported missing.
  assert.ok((await validatePrices(conn, [aldene], { expected: { start: '2026-03-08', end: '2026-03-08' } })).passed);
});

test('lmp that is not energy + congestion + loss (beyond 0.01) is caught; NULL components are skipped', async () => {
  const r = await validatePrices(conn, [
    await variant(
      hubs,
      `SELECT * REPLACE (CASE WHEN node_id = 51217 AND market = 'rt' AND ts_utc = '2025-05-01 15:00:00+00' THEN lmp + 0.5 ELSE lmp END AS lmp) FROM t`,
    ),
  ]);
  onlyFailure(r, 'lmp_equals_components');
  const rows = check(r, 'lmp_equals_components').details['rows'] as Record<string, unknown>[];
  assert.equal([rows.length, rows[0]?.['node_id'], rows[0]?.['ts_utc']], [1, 51217, '2025-05-01T15:00:00Z']);
  assert.ok(Math.abs(Number(rows[0]?.['diff']) - 0.5) < 0.01, String(rows[0]?.['diff']));
  const epfCheck = check(await validatePrices(conn, [epf]), 'lmp_equals_components');
  assert.ok(epfCheck.passed);
  assert.is(epfCheck.details['rowsWithComponents'], 0);
});

test('prices outside [-1000, 10000] are caught; negative prices within range are valid', async () => {
  const r = await validatePrices(conn, [
    await variant(
      hubs,
      `SELECT * REPLACE (
      CASE WHEN node_id = 51217 AND market = 'rt' AND ts_utc = '2025-05-01 15:00:00+00' THEN 12000 WHEN node_id = 51288 AND market = 'da' AND ts_utc = '2025-05-01 16:00:00+00' THEN -250 ELSE lmp END AS lmp,
      CASE WHEN (node_id = 51217 AND market = 'rt' AND ts_utc = '2025-05-01 15:00:00+00') OR (node_id = 51288 AND market = 'da' AND ts_utc = '2025-05-01 16:00:00+00') THEN NULL ELSE energy END AS energy) FROM t`,
    ),
  ]);
  onlyFailure(r, 'price_range');
  const c = check(r, 'price_range');
  assert.equal(
    (c.details['rows'] as Record<string, unknown>[]).map((x) => x['lmp']),
    [12000],
  );
  const cleanNegatives = check(await validatePrices(conn, [hubs]), 'price_range').details['negativeRows'];
  assert.is(c.details['negativeRows'], Number(cleanNegatives) + 1);
});

test('freshness in live mode: the latest hour per market against a given now', async () => {
  const fresh = await validatePrices(conn, [hubs], { freshness: { now: new Date('2025-05-03T10:00:00Z'), maxAgeHours: 36 } });
  assert.ok(check(fresh, 'freshness').passed, check(fresh, 'freshness').message);
  const stale = await validatePrices(conn, [hubs], { freshness: { now: new Date('2025-05-06T10:00:00Z'), maxAgeHours: 36 } });
  onlyFailure(stale, 'freshness');
  assert.match(check(stale, 'freshness').message, /market da latest 2025-05-03T03:00:00Z is 79 h old/);
});

test('load: the real 0 MW hour is flagged as a warning, the report still passes', async () => {
  const r = await validateLoad(conn, [loadMarch]);
  assert.ok(r.passed, describeFailures(r).join('\n'));
  const z = check(r, 'zero_load_hours');
  assert.equal([z.passed, z.severity], [false, 'warn']);
  assert.equal(z.details['rows'], [{ area: 'AECO', kind: 'metered', ts_utc: '2026-03-08T06:00:00Z' }]);
  assert.ok(check(r, 'hourly_completeness').passed, check(r, 'hourly_completeness').message);
});

test('load: negative MW is an error; a duplicate hour is an error; a gap is a warning listing the hour', async () => {
  const neg = await validateLoad(conn, [
    await variant(load, `SELECT * REPLACE (CASE WHEN ts_utc = '2025-11-02 06:00:00+00' THEN -5 ELSE mw END AS mw) FROM t`),
  ]);
  onlyFailure(neg, 'load_non_negative');
  const dup = await validateLoad(conn, [await variant(load, `SELECT * FROM t UNION ALL (SELECT * FROM t ORDER BY ts_utc LIMIT 1)`)]);
  onlyFailure(dup, 'unique_area_kind_hour');
  const gap = await validateLoad(conn, [await variant(load, `SELECT * FROM t WHERE ts_utc <> '2025-11-02 05:00:00+00'`)]);
  assert.ok(gap.passed);
  assert.equal((check(gap, 'hourly_completeness').details['missing'] as { hours: string[] }[])[0]?.hours, ['2025-11-02T05:00:00Z']);
  const strict = await validateLoad(conn, [await variant(load, `SELECT * FROM t WHERE ts_utc <> '2025-11-02 05:00:00+00'`)], { completenessSeverity: 'error' });
  onlyFailure(strict, 'hourly_completeness');
});

test.run();
