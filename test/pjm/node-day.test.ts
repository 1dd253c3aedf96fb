// The PJM pipeline on node x day partitions, through the real definitions on a committed
// excerpt (3 hubs x 14 days of RT and DA, test/fixtures/pjm/hubs3-2025-05; too short for the
// model's four weeks of training rows, so runs stop at the features and the plan of the whole
// graph says what the model and its consumers would do): a new day computes
// only that day's feature partitions; adding a node materializes that node's partitions and the
// model with what consumes it, and every other node stays fresh and unrun (and the dry run
// says so); a source day revised in the trailing window restales exactly its downstream, with
// the cause "source revised ..."; `-p node=...,day=...` selects node-days.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pjmDefinitions } from '../../assets/definitions.ts';
import { describePlan, Instance, materialize, prepareRun, type RunEvent } from '../../runtime/index.ts';
import { tempDir } from '../support/tmp.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/pjm/hubs3-2025-05/', import.meta.url));
const dataDir = tempDir('node-day');
const csvDir = tempDir('node-day-csv');
cpSync(FIXTURE, csvDir, { recursive: true });
const base = { PJM_SOURCE: 'dataminer-csv', PJM_CSV_DIR: csvDir, PJM_MARKETS: 'rt,da', PJM_START: '2025-05-01', PJM_BACKTEST_DAYS: '3', DATA_DIR: dataDir };

async function open(env: Record<string, string>) {
  return await Instance.open(await pjmDefinitions({ ...base, ...env }, { dataDir }), { dataDir });
}

/** Runs everything stale or missing; returns the `asset[partition]` of every step that ran. */
async function run(env: Record<string, string>, selection = '+pjm/features'): Promise<{ ran: string[]; unchanged: string[]; status: string }> {
  const instance = await open(env);
  try {
    const events: RunEvent[] = [];
    const r = await materialize(instance, { selection, trigger: 'test', onEvent: (e) => void events.push(e), now: new Date('2025-06-01T12:00:00Z') });
    const done = events.filter((e): e is Extract<RunEvent, { type: 'step_materialized' }> => e.type === 'step_materialized');
    if (r.status !== 'succeeded') throw new Error(`run ${r.status}: ${JSON.stringify(r.failures.slice(0, 3))}`);
    return {
      ran: done.map((e) => `${e.asset}[${e.partition}]`).sort(),
      unchanged: done
        .filter((e) => e.unchanged)
        .map((e) => `${e.asset}[${e.partition}]`)
        .sort(),
      status: r.status,
    };
  } finally {
    await instance.close();
  }
}

const TWO = '51217,51288';
const THREE = '51217,51288,4669664';
const perAsset = (ran: string[]) => {
  const out: Record<string, number> = {};
  for (const s of ran) out[s.slice(0, s.indexOf('['))] = (out[s.slice(0, s.indexOf('['))] ?? 0) + 1;
  return out;
};

test('a new day computes only its own feature partitions', async () => {
  const first = await run({ PJM_NODES: TWO, PJM_END: '2025-05-13', PJM_REVISION_DAYS: '0' });
  assert.is(perAsset(first.ran)['pjm/features'], 26, '2 nodes x 13 days');
  const next = await run({ PJM_NODES: TWO, PJM_END: '2025-05-14', PJM_REVISION_DAYS: '0' });
  assert.equal(
    next.ran.filter((s) => s.startsWith('pjm/features[')),
    ['pjm/features[51217|2025-05-14]', 'pjm/features[51288|2025-05-14]'],
  );
  assert.equal(
    next.ran.filter((s) => /2025-05-(0\d|1[0-3])\]/.test(s)),
    [],
    'no earlier node-day or day of any asset ran',
  );
});

test('adding a node: only its partitions, the model and its consumers run; the dry run says every other node is fresh', async () => {
  const env = { PJM_NODES: THREE, PJM_END: '2025-05-14', PJM_REVISION_DAYS: '0' };
  const instance = await open(env);
  try {
    const plan = (await prepareRun(instance, { now: new Date('2025-06-01T12:00:00Z') })).plan;
    const lines = describePlan(plan);
    assert.ok(lines.includes('skip        pjm/raw/prices[28 partitions 51217|2025-05-01…51288|2025-05-14]: fresh'), lines.join('\n'));
    assert.ok(lines.includes('run         pjm/raw/prices[14 partitions 4669664|2025-05-01…4669664|2025-05-14]: missing: never materialized'), lines.join('\n'));
    assert.ok(lines.includes('skip        pjm/features[28 partitions 51217|2025-05-01…51288|2025-05-14]: fresh'), lines.join('\n'));
    assert.ok(lines.includes('skip        pjm/raw/load[14 partitions 2025-05-01…2025-05-14]: fresh'), lines.join('\n'));
    // The model and what consumes it wait for the new node's features.
    for (const asset of ['pjm/model', 'pjm/backtest', 'pjm/forecast', 'pjm/model_export']) {
      assert.is(plan.steps.find((s) => s.asset === asset)!.action, 'run', asset);
    }
    // pjm/forecast_score: its 14 days, never materialized in this store (the first run stopped at pjm/features).
    assert.is(plan.counts.run, 14 * 4 + 4 + 14, "the new node's 14 days of four assets, the model and its three consumers, the 14 days of scores");
  } finally {
    await instance.close();
  }
  const added = await run(env);
  const others = added.ran.filter((s) => /\[(51217|51288)\|/.test(s));
  assert.equal(others, [], 'no partition of another node ran');
  assert.equal(perAsset(added.ran), {
    'pjm/raw/prices': 14,
    'pjm/processed/prices': 14,
    'pjm/validated/prices': 14,
    'pjm/features': 14,
  });
});

test('materialize partitions add pjm_nodes plans the added node as missing, and only it', async () => {
  const instance = await open({ PJM_NODES: '51217', PJM_END: '2025-05-14', PJM_REVISION_DAYS: '0' });
  try {
    const before = (await prepareRun(instance, { selection: 'pjm/validated/prices', now: new Date('2025-06-01T12:00:00Z') })).plan;
    assert.is(before.counts.run, 0, 'the others are not in the configuration, so not planned');
    await instance.store.addDynamicPartitions('pjm_nodes', ['51288']);
    const after = (await prepareRun(instance, { selection: 'pjm/validated/prices', now: new Date('2025-06-01T12:00:00Z') })).plan;
    assert.is(after.counts.run, 0, '51288 is in the store already: fresh');
    assert.is(after.counts.skip, 28);
  } finally {
    await instance.close();
  }
});

test('-p node=...,day=... selects node-days of the price assets and the days of load', async () => {
  const instance = await open({ PJM_NODES: THREE, PJM_END: '2025-05-14', PJM_REVISION_DAYS: '0' });
  try {
    const plan = (
      await prepareRun(instance, {
        selection: '+pjm/validated/prices,pjm/validated/load',
        partitions: 'node=51288,day=2025-05-10...2025-05-12',
        force: true,
        now: new Date('2025-06-01T12:00:00Z'),
      })
    ).plan;
    const keys = plan.steps.map((s) => `${s.asset}[${s.partition}]`);
    assert.equal(
      keys.filter((k) => k.startsWith('pjm/validated/prices')),
      ['pjm/validated/prices[51288|2025-05-10]', 'pjm/validated/prices[51288|2025-05-11]', 'pjm/validated/prices[51288|2025-05-12]'],
    );
    assert.equal(
      keys.filter((k) => k.startsWith('pjm/validated/load')),
      ['pjm/validated/load[2025-05-10]', 'pjm/validated/load[2025-05-11]', 'pjm/validated/load[2025-05-12]'],
    );
    const status = (await instance.status('pjm/features'))[0]!;
    assert.is(status.total, 42);
    assert.is(status.fresh, 42);
  } finally {
    await instance.close();
  }
});

test('a revised source day in the trailing window restales exactly its downstream, "source revised"', async () => {
  // PJM revises 51288's RT price of 2025-05-12 08:00 EPT: a new version_nbr in the export.
  const path = join(csvDir, 'hubs3_rt_hrl_lmps.csv');
  const lines = readFileSync(path, 'utf8').split('\r\n');
  const k = lines.findIndex((l) => l.includes(',5/12/2025 8:00:00 AM,51288,'));
  assert.ok(k > 0);
  const cells = lines[k]!.split(',');
  const header = lines[0]!.split(',');
  const col = (name: string) => header.indexOf(name);
  const revised = [...cells];
  revised[col('total_lmp_rt')] = (Number(cells[col('total_lmp_rt')]) + 5).toFixed(6);
  revised[col('congestion_price_rt')] = (Number(cells[col('congestion_price_rt')]) + 5).toFixed(6);
  revised[col('version_nbr')] = '2';
  cells[col('row_is_current')] = 'False';
  lines[k] = cells.join(',');
  lines.splice(k + 1, 0, revised.join(','));
  writeFileSync(path, lines.join('\r\n'));

  const env = { PJM_NODES: THREE, PJM_END: '2025-05-14', PJM_REVISION_DAYS: '7' };
  // The sources alone first: between runs, status names the revision.
  const instance = await open(env);
  try {
    await materialize(instance, { selection: 'pjm/raw/prices', trigger: 'test', now: new Date('2025-06-01T12:00:00Z') });
    const s = (await instance.resolver(new Date('2025-06-01T12:00:00Z'))).status('pjm/processed/prices' as never, '51288|2025-05-12');
    assert.is(s.status, 'STALE');
    assert.ok((await instance.status('pjm/processed/prices'))[0]!.causes.some((c) => /^source revised pjm\/raw\/prices\[51288\|2025-05-12\]/.test(c.text)));
    assert.is((await instance.status('pjm/processed/prices'))[0]!.stale, 1);
  } finally {
    await instance.close();
  }
  const r = await run(env);
  const changed = r.ran.filter((s) => !r.unchanged.includes(s));
  assert.equal(changed, [
    'pjm/features[51288|2025-05-12]',
    'pjm/features[51288|2025-05-13]',
    'pjm/features[51288|2025-05-14]',
    'pjm/processed/prices[51288|2025-05-12]',
    'pjm/validated/prices[51288|2025-05-12]',
  ]);
  // Everything else the run did was re-reading the trailing 7 days and finding the same rows.
  assert.equal(
    r.ran.filter((s) => !changed.includes(s)).every((s) => s.startsWith('pjm/raw/')),
    true,
    r.ran.join(', '),
  );
  assert.equal(
    r.ran.filter((s) => s.startsWith('pjm/features[') && !s.startsWith('pjm/features[51288|')),
    [],
    'no other node',
  );
});

test.run();
