// Data Miner CSV exports and the epftoolbox file become canonical Parquet: CRLF and AM/PM parsed,
// DST days checked against the UTC column, one row per (node, market, hour) with the current
// revision, the forecast-issue rule, and byte-identical output for identical input.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import {
  DataMinerCsvError,
  verifyCsvRows,
  registerDataMinerLmpCsv,
  registerDataMinerLoadMeteredCsv,
  findDataMinerCsvFiles,
} from '../../assets/pjm/sources/dataminer-csv.ts';
import { registerEpftoolbox } from '../../assets/pjm/sources/epftoolbox.ts';
import { EptMismatchError } from '../../assets/pjm/sources/ept-check.ts';
import {
  writeCanonicalPrices,
  writeCanonicalLoad,
  canonicalPricesSql,
  priceRevisionReport,
  PRICES_SCHEMA,
  LOAD_SCHEMA,
} from '../../assets/pjm/processed/index.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pjm/${name}`, import.meta.url));
let dir: string;
let conn: DuckDBConnection;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pjm-csv-'));
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
test.after(async () => {
  conn.closeSync();
  await rm(dir, { recursive: true, force: true });
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  // BIGINT counts and ids come back as bigint: compare them as numbers.
  return (await conn.runAndReadAll(sql))
    .getRowObjects()
    .map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v === null || typeof v !== 'object' ? v : String(v)])),
    );
}

test('the fixtures are CRLF exports with AM/PM timestamps', async () => {
  const text = await readFile(fixture('hubs_rt_hrl_lmps.csv'), 'utf8');
  assert.ok(text.includes('\r\n'));
  assert.ok(text.includes('5/1/2025 1:00:00 PM'));
});

test('a CRLF export parses with AM/PM read right, keyed on the UTC column', async () => {
  const r = await registerDataMinerLmpCsv(conn, [fixture('hubs_rt_hrl_lmps.csv')], 'rt', 'hub_rt');
  assert.is(await verifyCsvRows(conn, r), 576);
  const [x] = await rows(`SELECT strftime(ts_utc, '%Y-%m-%dT%H:%MZ') AS u, CAST(ts_ept AS VARCHAR) AS e, lmp, energy
    FROM hub_rt WHERE pnode_id = 51217 AND ts_ept = TIMESTAMP '2025-05-01 13:00:00'`);
  // The CSV row: 5/1/2025 5:00:00 PM (UTC), 5/1/2025 1:00:00 PM (EPT), EASTERN HUB.
  assert.equal(x?.['u'], '2025-05-01T17:00Z');
  const [n] = await rows(`SELECT count(*) AS n FROM hub_rt WHERE ts_utc IS NULL OR ts_ept IS NULL OR lmp IS NULL OR pnode_name IS NULL`);
  assert.is(Number(n?.['n']), 0);
  const [last] = await rows(`SELECT CAST(max(ts_ept) AS VARCHAR) AS e FROM hub_rt`);
  assert.is(last?.['e'], '2025-05-02 23:00:00');
});

test('DST days: 25 UTC hours on fall back, 23 on spring forward, every EPT label matching the UTC column', async () => {
  await registerDataMinerLmpCsv(conn, [fixture('aldene_rt_hrl_lmps.csv')], 'rt', 'aldene_rt');
  const out = join(dir, 'fall.parquet');
  assert.is((await writeCanonicalPrices(conn, ['aldene_rt'], out, { day: '2025-11-02' })).rows, 25);
  assert.is((await writeCanonicalPrices(conn, ['aldene_rt'], join(dir, 'spring.parquet'), { day: '2026-03-08' })).rows, 23);
  assert.is((await writeCanonicalPrices(conn, ['aldene_rt'], join(dir, 'normal.parquet'), { day: '2026-03-09' })).rows, 24);
  // The repeated 01:00 EPT hour is two distinct UTC hours with their own prices (42.37 then 42.01).
  const twice = await rows(`SELECT strftime(ts_utc, '%H:%M') AS h, lmp FROM read_parquet('${out}')
    WHERE timezone('America/New_York', ts_utc) = TIMESTAMP '2025-11-02 01:00:00' ORDER BY ts_utc`);
  assert.equal(twice, [
    { h: '05:00', lmp: 42.37 },
    { h: '06:00', lmp: 42.01 },
  ]);
  const [gap] = await rows(`SELECT count(*) AS n FROM aldene_rt WHERE ts_ept = TIMESTAMP '2026-03-08 02:00:00'`);
  assert.is(Number(gap?.['n']), 0);
});

test('an export whose EPT column disagrees with UTC is rejected, naming the file and the hour; nothing is written', async () => {
  const text = await readFile(fixture('aldene_rt_hrl_lmps.csv'), 'utf8');
  // Swap AM for PM on the second fall-back 01:00 row, as a hand-edited file might.
  const broken = text.replace('11/2/2025 6:00:00 AM,11/2/2025 1:00:00 AM', '11/2/2025 6:00:00 AM,11/2/2025 1:00:00 PM');
  assert.is.not(broken, text);
  const path = join(dir, 'broken_rt_hrl_lmps.csv');
  await writeFile(path, broken);
  const reg = await registerDataMinerLmpCsv(conn, [path], 'rt', 'broken_rt');
  // The early check names the file.
  try {
    await verifyCsvRows(conn, reg);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, DataMinerCsvError);
    assert.match((e as Error).message, /broken_rt_hrl_lmps\.csv: 1 rows whose datetime_beginning_ept disagrees/);
    assert.match((e as Error).message, /2025-11-02T06:00:00Z is 2025-11-02 01:00:00 EPT but the file says 2025-11-02 13:00:00/);
  }
  // The canonical SQL checks every row too and writes nothing.
  const out = join(dir, 'broken.parquet');
  try {
    await writeCanonicalPrices(conn, ['broken_rt'], out);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, EptMismatchError);
    assert.match(
      (e as Error).message,
      /broken_rt: 1 \(node, market, hour\) keys .*2025-11-02T06:00:00Z is 2025-11-02 01:00:00 EPT but the source says 2025-11-02 13:00:00/,
    );
  }
  assert.not.ok(existsSync(out));
});

test('an export of another feed is rejected by its header, naming the file', async () => {
  await registerDataMinerLmpCsv(conn, [fixture('hubs_da_hrl_lmps.csv')], 'rt', 'wrong').then(
    () => assert.unreachable('should have thrown'),
    (e: unknown) => {
      assert.instance(e, DataMinerCsvError);
      assert.match((e as Error).message, /hubs_da_hrl_lmps\.csv: is not a rt_hrl_lmps export: its header is ".*system_energy_price_da/);
    },
  );
});

test('a superseded revision is dropped: the current row (row_is_current, highest version_nbr) is kept', async () => {
  await registerDataMinerLmpCsv(conn, [fixture('hubs_da_hrl_lmps.csv')], 'da', 'hub_da');
  // Every row of EASTERN HUB at 2025-05-01 10:00 EPT gets an older, superseded revision with a wrong
  // price, and WESTERN HUB one hour gets a newer current revision (version 2).
  await conn.run(`CREATE OR REPLACE TEMP TABLE revisions AS
    SELECT * REPLACE (lmp + 100 AS lmp, false AS row_is_current, 0 AS version_nbr) FROM hub_da WHERE pnode_id = 51217 AND ts_ept = TIMESTAMP '2025-05-01 10:00:00'
    UNION ALL
    SELECT * REPLACE (lmp + 1 AS lmp, true AS row_is_current, 2 AS version_nbr) FROM hub_da WHERE pnode_id = 51288 AND ts_ept = TIMESTAMP '2025-05-01 10:00:00'
    UNION ALL
    SELECT * REPLACE (false AS row_is_current) FROM hub_da WHERE pnode_id = 51288 AND ts_ept = TIMESTAMP '2025-05-01 10:00:00'`);
  const out = join(dir, 'dedupe.parquet');
  const w = await writeCanonicalPrices(conn, ['hub_da', 'revisions'], out, { day: '2025-05-01' });
  assert.is(w.rows, 288);
  const got = await rows(`SELECT p.node_id, p.lmp = h.lmp AS same_as_v1 FROM read_parquet('${out}') p JOIN hub_da h
    ON h.pnode_id = p.node_id AND h.ts_utc = p.ts_utc WHERE p.node_id IN (51217, 51288) AND h.ts_ept = TIMESTAMP '2025-05-01 10:00:00' ORDER BY 1`);
  assert.equal(got, [
    { node_id: 51217, same_as_v1: true },
    { node_id: 51288, same_as_v1: false },
  ]);
  const [v2] = await rows(`SELECT round(p.lmp - h.lmp, 6) AS d FROM read_parquet('${out}') p JOIN hub_da h
    ON h.pnode_id = p.node_id AND h.ts_utc = p.ts_utc WHERE p.node_id = 51288 AND h.ts_ept = TIMESTAMP '2025-05-01 10:00:00'`);
  assert.is(v2?.['d'], 1);
  // The same rule whether the rows come from one table or two: byte-identical output.
  await conn.run(`CREATE OR REPLACE TEMP TABLE da_with_revisions AS SELECT * FROM revisions UNION ALL SELECT * FROM hub_da`);
  const staged = join(dir, 'staged.parquet');
  const direct = join(dir, 'direct.parquet');
  await writeCanonicalPrices(conn, ['hub_da', 'revisions'], staged);
  assert.is((await writeCanonicalPrices(conn, ['da_with_revisions'], direct)).rows, 576);
  assert.ok(Buffer.compare(await readFile(staged), await readFile(direct)) === 0, 'direct and staged outputs differ');
});

test('the revision report: a day with one row per (node, market, hour) reports nothing to dedupe; revisions are counted', async () => {
  await registerDataMinerLmpCsv(conn, [fixture('hubs_da_hrl_lmps.csv')], 'da', 'hub_da');
  await conn.run(`CREATE OR REPLACE TEMP TABLE hub_da_t AS SELECT * FROM hub_da`);
  assert.equal(await priceRevisionReport(conn, 'hub_da_t', { day: '2025-05-01' }), {
    rawRows: 288,
    exactDuplicates: 0,
    superseded: 0,
    conflicts: 0,
    examples: [],
  });
  // One exact duplicate and one superseded revision of a row take the full report.
  await conn.run(`CREATE OR REPLACE TEMP TABLE hub_da_rev AS SELECT * FROM hub_da_t
    UNION ALL SELECT * FROM hub_da_t WHERE pnode_id = 51217 AND ts_ept = TIMESTAMP '2025-05-01 10:00:00'
    UNION ALL SELECT * REPLACE (lmp + 3 AS lmp, false AS row_is_current, 0 AS version_nbr) FROM hub_da_t WHERE pnode_id = 51288 AND ts_ept = TIMESTAMP '2025-05-01 10:00:00'`);
  const r = await priceRevisionReport(conn, 'hub_da_rev', { day: '2025-05-01' });
  assert.equal({ ...r, examples: r.examples.length }, { rawRows: 290, exactDuplicates: 1, superseded: 1, conflicts: 0, examples: 0 });
});

test('canonical Parquet has the documented schema and identical input gives byte-identical files', async () => {
  const a = join(dir, 'a.parquet');
  const b = join(dir, 'b.parquet');
  await writeCanonicalPrices(conn, ['hub_rt', 'hub_da'], a);
  await writeCanonicalPrices(conn, ['hub_da', 'hub_rt'], b);
  assert.ok(Buffer.compare(await readFile(a), await readFile(b)) === 0, 'files differ');
  const schema = await rows(`SELECT column_name AS n, column_type AS t FROM (DESCRIBE SELECT * FROM read_parquet('${a}'))`);
  assert.equal(
    schema.map((r) => [r['n'], r['t']]),
    PRICES_SCHEMA.map(([n, t]) => [n, t]),
  );
  const [c] = await rows(`SELECT count(*) AS n, count(DISTINCT market) AS m FROM read_parquet('${a}')`);
  assert.equal([Number(c?.['n']), Number(c?.['m'])], [1152, 2]);
  assert.match(canonicalPricesSql(['x']), /ORDER BY market, node_id, ts_utc/);
});

test('metered load: the 0 MW hour at 2026-03-08 01:00 EPT is kept (validation flags it), 23 hours that day', async () => {
  await registerDataMinerLoadMeteredCsv(conn, [fixture('aldene_hrl_load_metered.csv')], 'aldene_load');
  const out = join(dir, 'load.parquet');
  assert.is((await writeCanonicalLoad(conn, ['aldene_load'], out, { day: '2026-03-08' })).rows, 23);
  const zero = await rows(`SELECT strftime(ts_utc, '%Y-%m-%dT%H:%MZ') AS u, area, kind FROM read_parquet('${out}') WHERE mw = 0`);
  assert.equal(zero, [{ u: '2026-03-08T06:00Z', area: 'AECO', kind: 'metered' }]);
  const schema = await rows(`SELECT column_name AS n, column_type AS t FROM (DESCRIBE SELECT * FROM read_parquet('${out}'))`);
  assert.equal(
    schema.map((r) => [r['n'], r['t']]),
    LOAD_SCHEMA.map(([n, t]) => [n, t]),
  );
});

test('forecast rule: the latest forecast issued before the EPT day is kept (rows built in code; no real excerpt)', async () => {
  await conn.run(`CREATE OR REPLACE TEMP TABLE fc AS SELECT * FROM (VALUES
    (TIMESTAMPTZ '2025-05-02 04:00:00+00', 'RTO', 'forecast', 100.0, TIMESTAMPTZ '2025-04-30 14:00:00+00', NULL::BOOLEAN),
    (TIMESTAMPTZ '2025-05-02 04:00:00+00', 'RTO', 'forecast', 110.0, TIMESTAMPTZ '2025-05-01 20:00:00+00', NULL),
    (TIMESTAMPTZ '2025-05-02 04:00:00+00', 'RTO', 'forecast', 999.0, TIMESTAMPTZ '2025-05-02 04:00:00+00', NULL),
    (TIMESTAMPTZ '2025-05-02 05:00:00+00', 'RTO', 'forecast', 120.0, TIMESTAMPTZ '2025-05-02 05:30:00+00', NULL)
  ) t(ts_utc, area, kind, mw, issued_utc, is_verified)`);
  const out = join(dir, 'fc.parquet');
  await writeCanonicalLoad(conn, ['fc'], out, { day: '2025-05-02' });
  // 00:00 EPT: issued at 16:00 EPT the day before wins over 10:00 EPT two days before; the one issued
  // at 00:00 EPT of the day itself is too late. 01:00 EPT: only a same-day issue exists, so no row.
  assert.equal(await rows(`SELECT mw FROM read_parquet('${out}')`), [{ mw: 110 }]);
});

test('epftoolbox: spring-forward row dropped, fall-back value on both UTC hours, every real hour once', async () => {
  const s = await registerEpftoolbox(conn, fixture('epftoolbox_dst.csv'));
  assert.equal([s.csvRows, s.springForwardRowsDropped, s.fallBackHoursDuplicated, s.lmpRows], [144, 1, 1, 144]);
  const p = join(dir, 'epf_prices.parquet');
  const l = join(dir, 'epf_load.parquet');
  await writeCanonicalPrices(conn, [s.relations.lmp], p);
  await writeCanonicalLoad(conn, [s.relations.load], l);
  const perDay = await rows(`SELECT CAST(CAST(timezone('America/New_York', ts_utc) AS DATE) AS VARCHAR) AS d, count(*) AS n,
      count(DISTINCT ts_utc) AS u FROM read_parquet('${p}') GROUP BY 1 ORDER BY 1`);
  assert.equal(
    perDay.map((r) => [r['d'], Number(r['n']), Number(r['u'])]),
    [
      ['2013-03-09', 24, 24],
      ['2013-03-10', 23, 23],
      ['2013-03-11', 24, 24],
      ['2013-11-02', 24, 24],
      ['2013-11-03', 25, 25],
      ['2013-11-04', 24, 24],
    ],
  );
  const fb = await rows(`SELECT strftime(ts_utc, '%H:%M') AS h, lmp FROM read_parquet('${p}')
    WHERE timezone('America/New_York', ts_utc) = TIMESTAMP '2013-11-03 01:00:00' ORDER BY ts_utc`);
  assert.is(fb.length, 2);
  assert.equal(
    fb.map((r) => r['h']),
    ['05:00', '06:00'],
  );
  assert.is(fb[0]?.['lmp'], fb[1]?.['lmp']);
  const [meta] = await rows(
    `SELECT min(node_id) AS id, min(node_name) AS n, min(node_type) AS t, min(market) AS m, count(energy) AS comp FROM read_parquet('${p}')`,
  );
  assert.equal(meta, { id: 33092371, n: 'COMED', t: 'ZONE', m: 'da', comp: 0 });
  const areas = await rows(`SELECT area, kind, count(*) AS n FROM read_parquet('${l}') GROUP BY ALL ORDER BY 1`);
  assert.equal(
    areas.map((r) => [r['area'], r['kind'], Number(r['n'])]),
    [
      ['COMED', 'forecast', 144],
      ['RTO', 'forecast', 144],
    ],
  );
});

test('the bundled PJM.csv maps to 52,416 real hours: 6 spring-forward rows dropped, 6 fall-back hours doubled', async () => {
  const s = await registerEpftoolbox(conn, fileURLToPath(new URL('../../data/epftoolbox/PJM.csv', import.meta.url)), {
    start: '2013-01-01',
    end: '2018-12-24',
    relations: { lmp: 'all_lmp', load: 'all_load' },
  });
  assert.equal(
    [s.csvRows, s.springForwardRowsDropped, s.fallBackHoursDuplicated, s.lmpRows, s.firstDay, s.lastDay],
    [52416, 6, 6, 52416, '2013-01-01', '2018-12-24'],
  );
});

test('findDataMinerCsvFiles picks exports by feed suffix', async () => {
  const f = await findDataMinerCsvFiles(fileURLToPath(new URL('../fixtures/pjm/', import.meta.url)));
  assert.equal([f.rt.length, f.da.length, f.loadMetered.length], [2, 1, 1]);
  await findDataMinerCsvFiles(join(dir, 'missing')).then(
    () => assert.unreachable('should have thrown'),
    (e: unknown) => assert.match((e as Error).message, /PJM_CSV_DIR/),
  );
});

test.run();
