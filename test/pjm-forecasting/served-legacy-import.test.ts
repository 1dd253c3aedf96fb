// Upgrading from a version that kept the served-forecast log in DATA_DIR/forecasts/served.sqlite:
// the first pjm/forecast_score step imports the file's forecasts into the lineage store's log
// and renames it served.sqlite.imported, then scores them as if they had been kept there; so
// does the server at start (its /api/forecast-scores then lists them as waiting); a file that
// is not the log fails the step with what to do. The file is written here with the
// earlier version's schema, as that version wrote it.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { importLegacyServedLog, legacyServedLogPath } from '../../assets/pjm/served/legacy-log.ts';
import { ServedForecastLog } from '../../assets/pjm/served/log.ts';
import { Instance, materialize, openLineageStore, type AssetKey } from '../../runtime/index.ts';
import { call, startTestServer } from '../serving/support/server.ts';
import { tempDir } from '../support/tmp.ts';
import { COMED, FIXTURE_CSV, scoreGraph } from './helpers/score-graph.ts';

/** Awaits `promise`, which must reject with a message matching `pattern`. */
async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await promise.then(
    () => assert.unreachable(`expected a rejection matching ${pattern}`),
    (err: Error) => assert.match(err.message, pattern),
  );
}

const DAY = '2016-12-20';

/** The earlier version's table, as it created it. */
const LEGACY_SCHEMA = `
  CREATE TABLE served_forecasts (
    model_version TEXT NOT NULL, node_id INTEGER NOT NULL, market TEXT NOT NULL CHECK (market IN ('da', 'rt')), day TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('forecast_asset', 'predict')), issued_at INTEGER NOT NULL, levels TEXT, hours TEXT NOT NULL,
    PRIMARY KEY (model_version, node_id, market, day));`;

function writeLegacyLog(dataDir: string): void {
  // +3 $/MWh on even hours, -1 on odd ones against the fixture's prices of DAY: MAE 2.
  const actual = readFileSync(FIXTURE_CSV, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${DAY} `))
    .map((l) => Number(l.split(',')[1]));
  const hours = actual.map((a, hour) => ({ hour, value: a + (hour % 2 === 0 ? 3 : -1), quantiles: null }));
  const path = legacyServedLogPath(dataDir);
  mkdirSync(join(dataDir, 'forecasts'), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(LEGACY_SCHEMA);
  const insert = db.prepare(`INSERT INTO served_forecasts VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  insert.run('model-v1', COMED, 'da', DAY, 'predict', Date.parse('2016-12-19T19:00:00Z'), null, JSON.stringify(hours));
  insert.run('model-v1', COMED, 'da', '2016-12-21', 'forecast_asset', Date.parse('2016-12-20T19:00:00Z'), null, JSON.stringify(hours));
  db.close();
}

test('the first pjm/forecast_score step imports an earlier version’s served.sqlite, renames it, and scores what it held', async () => {
  const dataDir = tempDir('served-legacy');
  writeLegacyLog(dataDir);
  const instance = await Instance.open(scoreGraph(DAY, dataDir), { dataDir });
  try {
    const r = await materialize(instance, { trigger: 'test' });
    assert.is(r.status, 'succeeded', JSON.stringify(r.failures));
    assert.not.ok(existsSync(legacyServedLogPath(dataDir)), 'the file was renamed');
    assert.ok(existsSync(`${legacyServedLogPath(dataDir)}.imported`));
    const log = new ServedForecastLog(instance.store);
    assert.is(await log.count(), 2);
    assert.equal(
      (await log.forDays('2016-12-01', '2016-12-31')).map((f) => [f.day, f.origin, f.nodeId, f.hours.length]),
      [
        [DAY, 'predict', COMED, 24],
        ['2016-12-21', 'forecast_asset', COMED, 24],
      ],
    );
    const m = (await instance.store.materialization((await instance.store.current('pjm/forecast_score' as AssetKey, DAY))!.id))!.metadata;
    assert.equal([m['forecasts'], m['hours'], m['mae']], [1, 24, 2]);
  } finally {
    await instance.close();
  }
});

test('the server imports it at start: /api/forecast-scores lists the imported forecasts as waiting to be scored', async () => {
  const dataDir = tempDir('served-legacy-server');
  writeLegacyLog(dataDir);
  // No import by the asset here (no legacyDataDir), and nothing materialized: only the server imports.
  const instance = await Instance.open(scoreGraph(DAY), { dataDir });
  const server = await startTestServer(instance, { warmupMs: 0 });
  try {
    assert.ok(existsSync(`${legacyServedLogPath(dataDir)}.imported`), 'renamed at start');
    const api = (await call(server.url, 'GET', '/api/forecast-scores')).json;
    assert.equal(
      api.pending.map((p: { day: string; origin: string }) => [p.day, p.origin]),
      [
        ['2016-12-21', 'forecast_asset'],
        [DAY, 'predict'],
      ],
    );
  } finally {
    await server.stop();
    await instance.close();
  }
});

test('a served.sqlite that is not the log is refused, naming the file and what to do; nothing is renamed', async () => {
  const dataDir = tempDir('served-legacy-bad');
  mkdirSync(join(dataDir, 'forecasts'), { recursive: true });
  writeFileSync(legacyServedLogPath(dataDir), 'not a database at all, just text that is long enough to be read as a header of sorts');
  const store = await openLineageStore(join(dataDir, 'store', 'lineage.sqlite'));
  try {
    await rejects(
      importLegacyServedLog(dataDir, store),
      /Could not import the served-forecast log of an earlier version, .*served\.sqlite: .*Move the file away \(its forecasts then go unscored\) or repair it/,
    );
    assert.ok(existsSync(legacyServedLogPath(dataDir)));
    assert.is(await new ServedForecastLog(store).count(), 0);
  } finally {
    await store.close();
  }
});

test.run();
