// Freshness where users look: `Instance.status` (what `materialize status` prints), the
// /metrics gauges and the CLI table, against a real store, with a fixed clock where the
// verdict depends on the hour.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, dailyPartitions, defineAsset, defineDefinitions, materialize, type AssetDefinition } from '../../runtime/index.ts';
import { configWith } from '../../serving/config.ts';
import { ServingMetrics } from '../../serving/metrics.ts';
import { startServer } from '../../serving/server.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

// Day D's forecast must exist by 14:30 New York time on D-1; the prices declare no deadline.
function defs() {
  const days = dailyPartitions({ start: '2027-01-01', endOffset: 2 });
  return defineDefinitions({
    assets: [
      defineAsset({ key: 'prices', partitions: days, codeVersion: '1', materialize: (ctx) => ({ value: ctx.partition }) }),
      defineAsset({
        key: 'forecast',
        deps: ['prices'],
        partitions: days,
        codeVersion: '1',
        freshness: { at: '14:30', timezone: 'America/New_York', partitionDay: -1 },
        materialize: async (ctx) => ({ value: `after ${await ctx.input('prices').json()}` }),
      }),
    ] as AssetDefinition<unknown>[],
  });
}

// 2027-01-10 15:00 EST: day 2027-01-11 was due at 14:30 EST today.
const AFTER_DEADLINE = new Date('2027-01-10T20:00:00Z');

test('status: on time once day D exists by its deadline, late with how late when it does not', async () => {
  const instance = await Instance.open(defs(), { dataDir: tempDir('fresh-status') });
  try {
    let [prices, forecast] = await instance.status(undefined, AFTER_DEADLINE);
    assert.is(prices!.freshness, undefined, 'an asset without a deadline has no verdict');
    assert.is(forecast!.freshness!.state, 'late');
    assert.is(forecast!.freshness!.partition, '2027-01-11');
    assert.is(forecast!.freshness!.reason, 'forecast[2027-01-11] was due by 2027-01-10 14:30 EST and is missing; 30 min 0 s late');
    assert.is(forecast!.freshness!.secondsLate, 1800);

    const run = await materialize(instance, { selection: 'prices,forecast', partitions: '2027-01-11', now: AFTER_DEADLINE });
    assert.is(run.status, 'succeeded');
    [, forecast] = await instance.status(undefined, AFTER_DEADLINE);
    // Materialized (today, in real time) long before the 2027 deadline.
    assert.is(forecast!.freshness!.state, 'on_time');
    assert.match(forecast!.freshness!.reason, /^forecast\[2027-01-11\] materialized .*, before its deadline 2027-01-10 14:30 EST$/);
    assert.is(forecast!.freshness!.secondsLate, 0);

    // A day later, day 2027-01-12 is due and missing.
    const nextDay = new Date('2027-01-11T21:30:00Z');
    const [late] = await instance.freshness(nextDay);
    assert.equal([late!.asset, late!.state, late!.partition, late!.secondsLate], ['forecast', 'late', '2027-01-12', 7200]);
  } finally {
    await instance.close();
  }
});

test('/metrics gauges: 1 when late, 0 on time, and the seconds late, read at each scrape', async () => {
  const instance = await Instance.open(defs(), { dataDir: tempDir('fresh-metrics') });
  try {
    const metrics = new ServingMetrics({ defaultMetrics: false });
    let now = AFTER_DEADLINE;
    metrics.setFreshnessSource(() => instance.freshness(now));
    let text = await metrics.registry.metrics();
    assert.match(text, /^asset_freshness_late\{asset="forecast"\} 1$/m);
    assert.match(text, /^asset_freshness_seconds_late\{asset="forecast"\} 1800$/m);
    assert.not.match(text, /asset="prices"/);

    await materialize(instance, { selection: 'prices,forecast', partitions: '2027-01-11', now });
    text = await metrics.registry.metrics();
    assert.match(text, /^asset_freshness_late\{asset="forecast"\} 0$/m);
    assert.match(text, /^asset_freshness_seconds_late\{asset="forecast"\} 0$/m);

    // The clock passes the next deadline with no run in between: the next scrape says late.
    now = new Date('2027-01-11T19:35:00Z');
    text = await metrics.registry.metrics();
    assert.match(text, /^asset_freshness_late\{asset="forecast"\} 1$/m);
    assert.match(text, /^asset_freshness_seconds_late\{asset="forecast"\} 300$/m);
  } finally {
    await instance.close();
  }
});

test('the server exports the gauges on /metrics', async () => {
  const dataDir = tempDir('fresh-server');
  // Unpartitioned and never materialized: late whatever the real hour.
  const instance = await Instance.open(
    defineDefinitions({
      assets: [
        defineAsset({ key: 'daily_report', codeVersion: '1', freshness: { at: '06:00', timezone: 'Europe/Paris' }, materialize: () => ({ value: 1 }) }),
      ] as AssetDefinition<unknown>[],
    }),
    { dataDir },
  );
  const server = await startServer(instance, configWith({ dataDir }), { modules: [] });
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^asset_freshness_late\{asset="daily_report"\} 1$/m);
    assert.match(text, /^asset_freshness_seconds_late\{asset="daily_report"\} [1-9][\d.e+]*$/m);
  } finally {
    await server.close();
    await instance.close();
  }
});

test('materialize status: a DEADLINE column and each verdict in words', async () => {
  const dataDir = tempDir('fresh-cli');
  writeFileSync(join(dataDir, 'source-value.txt'), 'a');
  const env = { DATA_DIR: dataDir, ASSET_DEFINITIONS: 'test/fixtures/automation/definitions.ts' };
  // `derived` is due once a day by 14:30 New York time: never materialized, it is late whatever the hour.
  const before = await runCli(['status'], env);
  assert.is(before.code, 0, before.stderr);
  assert.match(before.stdout, /^ASSET\s+STATUS\s+DEADLINE\s+/m);
  assert.match(before.stdout, /^derived\s+MISSING\s+LATE\s+/m);
  assert.match(before.stdout, /^source\s+MISSING\s+(?!LATE|on time)/m);
  assert.match(
    before.stdout,
    /Deadlines:\n {2}derived: LATE — due by \d{4}-\d{2}-\d{2} 14:30 E[SD]T \(once a day, after .*\) and never materialized; .* late\n/,
  );
  assert.is((await runCli(['source,derived'], env)).code, 0);
  const after = await runCli(['status'], env);
  assert.match(after.stdout, /^derived\s+FRESH\s+on time\s+/m);
  assert.match(after.stdout, /derived: on time — materialized .*, since the deadline before/);
  const json = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { asset: string; freshness?: { state: string } }[];
  assert.equal(
    json.map((s) => [s.asset, s.freshness?.state]),
    [
      ['source', undefined],
      ['derived', 'on_time'],
    ],
  );
});

test.run();
