// A small asset graph for the UI tests, with every status the UI shows: a daily
// partitioned source, a per-day check, a summary over all days, a report, a
// step that fails on demand, and an asset left unmaterialized. Behaviour is
// steered through `resources`, which the tests change between runs.
import { setTimeout as delay } from 'node:timers/promises';
import { dailyPartitions, defineAsset, defineDefinitions } from '../../../runtime/index.ts';

export interface DemoResources {
  /** Multiplies every reading: changing it changes the data, so downstream becomes stale. */
  scale: number;
  /** demo/summary and each readings partition sleep this long (so a run's progress can be watched). */
  slowMs: number;
  /** When true, demo/flaky throws. */
  fail: boolean;
}

const days = dailyPartitions({ start: '2024-01-01', end: '2024-01-06' });

export function demoDefinitions(resources: DemoResources = { scale: 1, slowMs: 0, fail: false }) {
  const readings = defineAsset<DemoResources>({
    key: 'demo/readings',
    description: 'Hourly readings for one day.',
    group: 'demo',
    codeVersion: '1',
    partitions: days,
    io: 'table',
    async materialize(ctx) {
      if (ctx.resources.slowMs > 0) await delay(ctx.resources.slowMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      return {
        sql: `SELECT DATE '${ctx.partition}' + INTERVAL (h) HOUR AS ts, (h * ${ctx.resources.scale})::DOUBLE AS value FROM range(24) t(h) ORDER BY ts`,
        metadata: { rows: 24 },
      };
    },
  });

  const daily = defineAsset<DemoResources>({
    key: 'demo/daily_mean',
    description: 'Mean of one day of readings.',
    group: 'demo',
    codeVersion: '1',
    partitions: days,
    deps: ['demo/readings'],
    io: 'json',
    checks: [
      {
        name: 'has_24_hours',
        description: 'Every day has 24 hourly readings.',
        check: async (ctx) => {
          const v = await ctx.output.json<{ hours: number }>();
          return { passed: v.hours === 24, message: v.hours === 24 ? '' : `${v.hours} hours`, metadata: { hours: v.hours, expected: 24 } };
        },
      },
    ],
    async materialize(ctx) {
      const conn = await ctx.duckdb();
      const r = await conn.runAndReadAll(`SELECT avg(value) AS mean, count(*)::INT AS n FROM ${await ctx.input('readings').sql()}`);
      const row = r.getRowObjects()[0]!;
      return { value: { mean: Number(row.mean), hours: Number(row.n) }, metadata: { mean: Number(row.mean) } };
    },
  });

  const summary = defineAsset<DemoResources>({
    key: 'demo/summary',
    description: 'Mean of the daily means over every day.',
    group: 'demo',
    codeVersion: '1',
    deps: ['demo/daily_mean'],
    io: 'json',
    async materialize(ctx) {
      if (ctx.resources.slowMs > 0) await delay(ctx.resources.slowMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      const values = await ctx.input('daily_mean').jsonByPartition<{ mean: number }>();
      const means = [...values.values()].map((v) => v.mean);
      return { value: { mean: means.reduce((a, b) => a + b, 0) / means.length, days: means.length }, metadata: { days: means.length } };
    },
  });

  const flaky = defineAsset<DemoResources>({
    key: 'demo/flaky',
    description: 'Fails while resources.fail is set.',
    group: 'demo',
    codeVersion: '1',
    deps: ['demo/summary'],
    io: 'json',
    async materialize(ctx) {
      if (ctx.resources.fail) throw new Error('the upstream service answered 503');
      return { value: await ctx.input('summary').json() };
    },
  });

  const report = defineAsset<DemoResources>({
    key: 'demo/report',
    description: 'A sentence about the summary.',
    group: 'reports',
    codeVersion: '1',
    deps: ['demo/summary'],
    io: 'json',
    async materialize(ctx) {
      const s = await ctx.input('summary').json<{ mean: number }>();
      return { value: { text: `The mean is ${s.mean}.` } };
    },
  });

  const later = defineAsset<DemoResources>({
    key: 'demo/later',
    description: 'Never materialized in the tests until asked.',
    group: 'reports',
    codeVersion: '1',
    // Due once a day: late until materialized (never yet), then on time whatever the hour.
    freshness: { at: '14:30', timezone: 'America/New_York' },
    deps: ['demo/report'],
    io: 'json',
    async materialize(ctx) {
      return { value: await ctx.input('report').json() };
    },
  });

  return defineDefinitions<DemoResources>({ assets: [readings, daily, summary, flaky, report, later], resources });
}
