// The batch screen of the `validated` checks (validation/batch.ts) must judge every day file
// exactly as validatePrices / validateLoad judge it alone: same checks, messages and details, for
// clean days (including DST days of 23 and 25 hours) and for each kind of fault, mixed in one batch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { registerDataMinerLmpCsv, registerDataMinerLoadMeteredCsv } from '../../assets/pjm/sources/dataminer-csv.ts';
import { writeCanonicalPrices, writeCanonicalLoad } from '../../assets/pjm/processed/index.ts';
import { validateLoad, validatePrices } from '../../assets/pjm/validation/index.ts';
import { validateLoadDays, validatePriceDays, type LoadDayFile, type PriceDayFile } from '../../assets/pjm/validation/batch.ts';
import type { LoadFeed } from '../../assets/pjm/sources/raw.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/pjm/${name}`, import.meta.url));
let dir: string;
let conn: DuckDBConnection;
let hubs: string;
let aldene: string;
let load: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pjm-val-batch-'));
  conn = await (await DuckDBInstance.create(':memory:')).connect();
  await registerDataMinerLmpCsv(conn, [fixture('hubs_rt_hrl_lmps.csv')], 'rt', 'hub_rt');
  await registerDataMinerLmpCsv(conn, [fixture('hubs_da_hrl_lmps.csv')], 'da', 'hub_da');
  await registerDataMinerLmpCsv(conn, [fixture('aldene_rt_hrl_lmps.csv')], 'rt', 'aldene_rt');
  await registerDataMinerLoadMeteredCsv(conn, [fixture('aldene_hrl_load_metered.csv')], 'aldene_load');
  hubs = (await writeCanonicalPrices(conn, ['hub_rt', 'hub_da'], join(dir, 'hubs.parquet'))).path;
  aldene = (await writeCanonicalPrices(conn, ['aldene_rt'], join(dir, 'aldene.parquet'), { range: { start: '2026-03-07', end: '2026-03-09' } })).path;
  load = (await writeCanonicalLoad(conn, ['aldene_load'], join(dir, 'load.parquet'), { range: { start: '2025-11-01', end: '2025-11-03' } })).path;
});
test.after(async () => {
  conn.closeSync();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** One day file cut from `src` (its EPT day `day`, rows `where`), then changed by `change` (reads `t`). */
async function dayFile(src: string, day: string, where: string, change = 'SELECT * FROM t'): Promise<string> {
  const out = join(dir, `day-${++n}.parquet`);
  await conn.run(`SET TimeZone = 'UTC'`);
  await conn.run(
    `COPY (WITH t AS (SELECT * FROM read_parquet('${src}') WHERE CAST(timezone('America/New_York', ts_utc) AS DATE) = DATE '${day}' AND ${where}) ${change}) TO '${out}' (FORMAT parquet)`,
  );
  return out;
}

test('prices: a batch of clean and faulty node-days reads exactly as each day judged alone', async () => {
  const files: PriceDayFile[] = [];
  const add = async (node: number, day: string, change?: string, extra: Partial<PriceDayFile> = {}) =>
    files.push({
      path: await dayFile(node === 48592 ? aldene : hubs, day, `node_id = ${node}`, change),
      node,
      day,
      markets: node === 48592 ? ['rt'] : ['rt', 'da'],
      ...extra,
    });
  for (const node of [51217, 51288, 4669664]) for (const day of ['2025-05-01', '2025-05-02']) await add(node, day);
  const aldeneNode = Number((await (await conn.runAndReadAll(`SELECT any_value(node_id) FROM read_parquet('${aldene}')`)).getRows())[0]?.[0]);
  assert.is(aldeneNode, 48592, 'the ALDENE pnode id used below');
  await add(aldeneNode, '2026-03-08'); // spring forward: 23 hours
  await add(51217, '2025-05-01', `SELECT * FROM t UNION ALL (SELECT * FROM t WHERE market = 'da' ORDER BY ts_utc LIMIT 1)`);
  await add(51217, '2025-05-01', `SELECT * FROM t WHERE NOT (market = 'rt' AND ts_utc = '2025-05-01 09:00:00+00')`);
  await add(51217, '2025-05-01', `SELECT * REPLACE (CASE WHEN market = 'rt' AND ts_utc = '2025-05-01 15:00:00+00' THEN lmp + 0.5 ELSE lmp END AS lmp) FROM t`);
  await add(
    51217,
    '2025-05-01',
    `SELECT * REPLACE (CASE WHEN market = 'rt' AND ts_utc = '2025-05-01 15:00:00+00' THEN 12000 ELSE lmp END AS lmp, NULL::DOUBLE AS energy) FROM t`,
  );
  await add(51217, '2025-05-01', `SELECT * REPLACE (CAST(lmp AS VARCHAR) AS lmp) FROM t`);
  await add(51217, '2025-05-01', `SELECT * REPLACE (CASE WHEN ts_utc = '2025-05-01 10:00:00+00' THEN NULL ELSE lmp END AS lmp) FROM t`);
  await add(51217, '2025-05-02'); // expects rt and da, but the node's file is checked for the right node:
  await add(51288, '2025-05-02', undefined, { node: 51217 }); // rows of another node: every hour missing
  await add(51217, '2025-05-02', undefined, { revisions: { rawRows: 50, exactDuplicates: 2, superseded: 0, conflicts: 0, examples: [] } as never });
  await add(51217, '2025-05-02', `SELECT * FROM t WHERE false`); // no rows at all

  const batch = await validatePriceDays(conn, files);
  const alone = await Promise.all(
    files.map((f) => validatePrices(conn, [f.path], { expected: { start: f.day, end: f.day, nodeIds: [f.node], markets: f.markets }, revisions: f.revisions })),
  );
  for (const [i, f] of files.entries()) assert.equal(batch[i], alone[i], `file ${i} (${f.node} ${f.day})`);
  assert.equal(
    batch.map((r) => r.passed),
    [true, true, true, true, true, true, true, false, false, false, false, false, false, true, false, true, false],
  );
});

test('load: a batch reads exactly as each day judged alone, with the feed present and absent', async () => {
  const present: LoadFeed = { status: 'present', feeds: ['hrl_load_metered'], series: [{ area: 'AECO', kind: 'metered' }] };
  const other: LoadFeed = {
    status: 'present',
    feeds: ['hrl_load_metered'],
    series: [
      { area: 'AECO', kind: 'metered' },
      { area: 'PECO', kind: 'forecast' },
    ],
  };
  const absent: LoadFeed = { status: 'absent', reason: 'the dataminer-csv source found no load files' };
  const files: LoadDayFile[] = [];
  const add = async (day: string, feed: LoadFeed, change?: string) => files.push({ path: await dayFile(load, day, 'true', change), day, feed });
  for (const day of ['2025-11-01', '2025-11-02', '2025-11-03']) await add(day, present); // 11-02: fall back, 25 hours
  await add('2025-11-02', present, `SELECT * REPLACE (CASE WHEN ts_utc = '2025-11-02 06:00:00+00' THEN -5 ELSE mw END AS mw) FROM t`);
  await add('2025-11-02', present, `SELECT * REPLACE (CASE WHEN ts_utc = '2025-11-02 06:00:00+00' THEN 0 ELSE mw END AS mw) FROM t`);
  await add('2025-11-02', present, `SELECT * FROM t UNION ALL (SELECT * FROM t ORDER BY ts_utc LIMIT 1)`);
  await add('2025-11-02', present, `SELECT * FROM t WHERE ts_utc <> '2025-11-02 05:00:00+00'`);
  await add('2025-11-02', other);
  await add('2025-11-02', absent, 'SELECT * FROM t WHERE false');
  await add('2025-11-02', { status: 'present', feeds: [], series: [] });

  const batch = await validateLoadDays(conn, files);
  const alone = await Promise.all(files.map((f) => validateLoad(conn, [f.path], { expected: { start: f.day, end: f.day }, feed: f.feed })));
  for (const [i, f] of files.entries()) assert.equal(batch[i], alone[i], `file ${i} (${f.day} ${f.feed.status})`);
  assert.equal(
    batch.map((r) => r.passed),
    [true, true, true, false, true, false, true, false, true, true],
  );
});

test.run();
