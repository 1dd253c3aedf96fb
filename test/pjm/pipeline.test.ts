// The whole default pipeline, as a user runs it: `materialize` from an empty
// store on the bundled epftoolbox data (a reduced date range), a worse model refused by
// no_worse_than_current (and published with --force), then a source fault that validation
// must catch while the previous model stays current.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const dir = tempDir('pipeline');
const env = { PJM_START: '2016-08-01', PJM_END: '2017-01-15', DATA_DIR: dir };
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...env, ...extra });

test('materialize from an empty store: every asset fresh, a model, a backtest table, a forecast', async () => {
  const r = await cli([]);
  assert.is(r.code, 0, r.stderr + r.stdout.slice(-2000));
  assert.match(r.stdout, /run \S+ succeeded/);
  // The comparison table is printed at the end of the run.
  assert.match(r.stdout, /pjm\/backtest:\nWalk-forward backtest, DA, 2016-12-27\.\.2017-01-15/);
  // The default model is the ensemble; its families' scores follow the table. These 168 days hold
  // no whole 1092-day window, so LEAR has no forecast and the table says XGBoost stood alone.
  assert.match(
    r.stdout,
    /Ensemble XGBoost \+ LEAR \(XGBoost monthly, LEAR windows 56\/1092 refit every 7\/56 days; LEAR had no forecast, so XGBoost alone\)\s+\d+\.\d{3}/,
  );
  assert.match(r.stdout, /lear {7}no forecast/);
  assert.match(r.stdout, /Families \(PJM_MODEL_FAMILIES=ensemble/);
  assert.match(r.stdout, /Naive \(D-7 Mon\/Sat\/Sun, else D-1\)/);
  assert.match(r.stdout, /epftoolbox LEAR Ensemble \(published\)/);

  const status = JSON.parse((await cli(['status', '--json'])).stdout) as { asset: string; status: string; fresh: number; total: number }[];
  assert.equal(
    status.filter((s) => s.status !== 'FRESH').map((s) => s.asset),
    [],
  );
  assert.is(status.find((s) => s.asset === 'pjm/validated/prices')!.fresh, 168);

  const model = JSON.parse((await cli(['show', 'pjm/model', '--json'])).stdout);
  const sidecar = model.materialization.metadata.sidecar;
  assert.is(sidecar.market, 'da');
  assert.ok(sidecar.featureNames.length > 50);
  assert.not.ok(
    sidecar.featureNames.some((f: string) => /congestion|loss|energy|target/.test(f)),
    'no feature is the target or its components',
  );
  // The exported model is plain XGBoost JSON, with its sidecar beside it.
  const exported = JSON.parse(readFileSync(join(dir, 'models', 'xgb_da_lmp.json'), 'utf8'));
  assert.ok(exported.learner?.gradient_booster, 'XGBoost JSON model');
  const exportedSidecar = JSON.parse(readFileSync(join(dir, 'models', 'xgb_da_lmp.sidecar.json'), 'utf8'));
  assert.ok(exportedSidecar.metrics.backtest.overall.mae > 0);

  const forecast = JSON.parse((await cli(['show', 'pjm/forecast', '--json'])).stdout);
  assert.is(forecast.materialization.metadata.rowCount, 24);
  // The quantile columns are always there; they hold values exactly when the model has a calibration.
  assert.equal(
    forecast.materialization.metadata.columns.slice(-7),
    ['p05', 'p10', 'p25', 'p50', 'p75', 'p90', 'p95'].map((c) => `${c}: DOUBLE`),
  );
  assert.is(
    forecast.materialization.metadata.quantiles === null,
    sidecar.calibration === undefined,
    'the forecast says where its quantiles come from iff the model has them',
  );

  const lineage = await cli(['lineage', 'pjm/model']);
  // The model reads the node x day feature partitions (the COMED node's 168 days).
  assert.match(lineage.stdout, /pjm\/features — 168 partitions 33092371\|2016-08-01 … 33092371\|2017-01-15\n/);
  // Each feature partition read its node's validated prices of D-7..D; the feature set read the load of every day.
  assert.match(lineage.stdout, /pjm\/validated\/prices — 8 partitions 33092371\|2017-01-08 … 33092371\|2017-01-15/);
  assert.match(lineage.stdout, /pjm\/validated\/load — 168 partitions 2016-08-01 … 2017-01-15/);
});

test('a second run re-reads the last 7 source days only; identical recomputation keeps downstream fresh', async () => {
  const again = await cli(['--json']);
  assert.is(again.code, 0);
  const lines = again.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const finished = lines.pop()!;
  // PJM_REVISION_DAYS (7): the raw prices and load of 2017-01-09..15 are read again, find the same rows, and nothing else runs.
  assert.is(finished.counts.materialized, 14);
  assert.is(finished.counts.unchanged, 14);
  assert.equal([...new Set(lines.filter((e) => e.type === 'step_materialized').map((e) => e.asset))].sort(), ['pjm/raw/load', 'pjm/raw/prices']);
  // Recompute one raw day: same bytes, so nothing downstream runs.
  const forced = await cli(['pjm/raw/prices', '--partition', 'node=33092371,day=2016-11-15', '--force', '--json']);
  assert.is(forced.code, 0, forced.stderr);
  const end = JSON.parse(forced.stdout.trim().split('\n').pop()!);
  assert.is(end.counts.materialized, 1);
  assert.is(end.counts.unchanged, 1);
  const after = await cli(['--json'], { PJM_REVISION_DAYS: '0' });
  assert.is(JSON.parse(after.stdout.trim().split('\n').pop()!).counts.materialized, 0, 'nothing downstream ran');
});

test('no_worse_than_current: a worse candidate is not published and both MAEs are recorded; --force publishes it, saying so', async () => {
  const current = JSON.parse((await cli(['show', 'pjm/model', '--json'])).stdout).materialization;
  const realMae = current.metadata.backtestMae as number;
  assert.ok(realMae > 0);
  // Make the current model look twice as good as it was (its recorded backtest MAE halved, in
  // the store), then change the backtest (weekly recalibration, same test period) so the model
  // retrains: its candidate is then > 2 % worse than the figure it is compared with.
  const db = new Database(join(dir, 'store', 'lineage.sqlite'));
  db.prepare('UPDATE materializations SET metadata = ? WHERE id = ?').run(JSON.stringify({ ...current.metadata, backtestMae: realMae / 2 }), current.id);
  db.close();
  const weekly = { PJM_BACKTEST_RECALIBRATION: 'weekly', PJM_REVISION_DAYS: '0' };
  const blocked = await cli(['--json'], weekly);
  assert.is(blocked.code, 1, blocked.stdout.slice(-2000));
  const events = blocked.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const check = events.find((e) => e.type === 'check_evaluated' && e.check === 'no_worse_than_current');
  assert.ok(check, 'the check ran');
  assert.is(check.passed, false);
  const fmt = (v: number) => v.toFixed(3);
  assert.match(
    check.message,
    new RegExp(
      `Candidate backtest MAE \\d+\\.\\d{3} is \\d+\\.\\d{2} % worse than the current model's ${fmt(realMae / 2).replace('.', '\\.')} on 2016-12-27\\.\\.2017-01-15 \\(allowed \\+2\\.0 %\\): not published`,
    ),
  );
  assert.ok(events.some((e) => e.type === 'step_blocked' && e.asset === 'pjm/model'));
  assert.is(JSON.parse((await cli(['show', 'pjm/model', '--json'])).stdout).materialization.id, current.id, 'the current model stays served');
  // Both figures are recorded with the blocked candidate's check result.
  const store = new Database(join(dir, 'store', 'lineage.sqlite'), { readonly: true });
  const cols = (store.prepare("SELECT name FROM pragma_table_info('check_results')").all() as { name: string }[]).map((c) => c.name);
  assert.ok(cols.includes('metadata'), `check_results columns: ${cols.join(', ')}`);
  const recorded = store
    .prepare(
      "SELECT c.passed, c.metadata FROM check_results c JOIN materializations m ON m.id = c.materialization_id WHERE m.asset = 'pjm/model' AND m.status = 'blocked' AND c.name = 'no_worse_than_current'",
    )
    .get() as { passed: number; metadata: string };
  store.close();
  const figures = JSON.parse(recorded.metadata);
  assert.is(recorded.passed, 0);
  assert.is(figures.currentMae, realMae / 2);
  assert.ok(figures.candidateMae > (realMae / 2) * 1.02, JSON.stringify(figures));
  assert.is(figures.forced, false);

  // The operator accepts it: --force publishes the candidate, and the run output says it was forced.
  const forced = await cli(['pjm/model', '--force'], weekly);
  assert.is(forced.code, 0, forced.stdout.slice(-2000));
  assert.match(
    forced.stdout,
    /pjm\/model: check no_worse_than_current passed: Forced \(materialize --force\): candidate backtest MAE \d+\.\d{3} is \d+\.\d{2} % worse than the current model's \d+\.\d{3} .*published anyway/,
  );
  const now = JSON.parse((await cli(['show', 'pjm/model', '--json'])).stdout).materialization;
  assert.ok(now.id > current.id, 'the forced candidate is the current model');
  // Back to the default backtest for the next test (the current model is now the forced one).
  const back = await cli(['--json'], { PJM_REVISION_DAYS: '0', PJM_MODEL_MAX_WORSE: 'off' });
  assert.is(back.code, 0, back.stdout.slice(-2000));
  assert.match(back.stdout, /Check off \(PJM_MODEL_MAX_WORSE=off\)/);
});

test('a bad source day is blocked by validation; downstream is skipped and the previous model stays current', async () => {
  const before = JSON.parse((await cli(['show', 'pjm/model', '--json'])).stdout).materialization.id;
  // A copy of the bundled data with one impossible price on 2017-01-10.
  const epf = tempDir('epf');
  const src = new URL('../../data/epftoolbox/PJM.csv', import.meta.url).pathname;
  const lines = readFileSync(src, 'utf8').split('\n');
  const k = lines.findIndex((l) => l.startsWith('2017-01-10 12:00:00'));
  assert.ok(k > 0);
  const cells = lines[k]!.split(',');
  cells[1] = '25000.0';
  lines[k] = cells.join(',');
  writeFileSync(join(epf, 'PJM.csv'), lines.join('\n'));
  copyFileSync(
    new URL('../../data/epftoolbox/Forecasts_PJM_DNN_LEAR_ensembles.csv', import.meta.url).pathname,
    join(epf, 'Forecasts_PJM_DNN_LEAR_ensembles.csv'),
  );

  const r = await cli([], { PJM_EPFTOOLBOX_DIR: epf });
  assert.is(r.code, 1);
  // 2017-01-10 is among the last 7 days, so the run re-reads it from the changed file.
  assert.match(r.stderr, /pjm\/validated\/prices\[33092371\|2017-01-10\]: blocked by check price_range/);
  assert.match(r.stdout, /pjm\/model: skipped, upstream pjm\/validated\/prices\[33092371\|2017-01-10\] was blocked by a failed check/);
  const after = JSON.parse((await cli(['show', 'pjm/model', '--json'])).stdout).materialization.id;
  assert.is(after, before, 'the previous model is still the current one');
  assert.ok(existsSync(join(dir, 'models', 'xgb_da_lmp.json')));
});

test.run();
