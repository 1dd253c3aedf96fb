// Daemon benchmark (figures printed, nothing asserted): one automation tick over 1,000 assets
// with automation policies (50 sources `missing`, 941 `eager`, and every 100th past the sources
// `on_cron`: 9) and 10 sensors, on a store where every asset is fresh. Two cases:
//  - quiet: nothing changed, the sensors see nothing new: the cost of looking (goal < 200 ms);
//  - busy: 10 sources got new data and each sensor requests one run: the cost of deciding,
//    claiming and preparing ~30 runs (the runs themselves are not executed: `execute: false`).
// For each: median ms per tick and the store writes per tick (claims + the tick transaction).
// Run: npx tsx bench/daemon.ts   (LINEAGE_STORE=postgres://… for PostgreSQL; BENCH_TICKS=N ticks per case, default 9)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Instance, assetKey, defineAsset, defineDefinitions, UNPARTITIONED, type AssetDefinition, type AssetKey, type DataVersion } from '../runtime/index.ts';
import { defineSensor, type Sensor } from '../runtime/automation/sensors.ts';
import { runTick } from '../runtime/automation/tick.ts';
import type { NewMaterialization } from '../runtime/store/lineage-store-api.ts';

const ASSETS = 1000;
const LAYER = 50;
const SENSORS = 10;
const TICKS = Number(process.env.BENCH_TICKS ?? 9);
const GOAL_MS = 200;

const key = (i: number): AssetKey => assetKey(`auto/a${i}`);
function depsOf(i: number): AssetKey[] {
  if (i < LAYER) return [];
  const base = (Math.floor(i / LAYER) - 1) * LAYER;
  return [...new Set([base + (i % LAYER), base + ((i * 7) % LAYER), base + ((i * 13) % LAYER)])].map(key);
}

/** Whether the sensors request a run on this tick (the busy case) or see nothing new. */
const sensorState = { busy: false, seen: 0 };

function definitions() {
  const assets = Array.from({ length: ASSETS }, (_, i) =>
    defineAsset({
      key: key(i),
      deps: depsOf(i),
      codeVersion: '1',
      automation: i < LAYER ? { kind: 'missing' } : i % 100 === 0 ? { kind: 'on_cron', cron: '0 6 * * *', timezone: 'America/New_York' } : { kind: 'eager' },
      materialize: () => ({ value: i }),
    }),
  ) as AssetDefinition<unknown>[];
  const sensors: Sensor<unknown>[] = Array.from({ length: SENSORS }, (_, s) =>
    defineSensor({
      name: `source_${s}`,
      intervalMs: 1000,
      evaluate: ({ cursor }) => {
        if (!sensorState.busy) return { runRequests: [], skipReason: 'nothing new at the source' };
        const next = Number(cursor ?? 0) + 1;
        return { runRequests: [{ selection: key(s), dedupeKey: `source_${s}:${next}`, reason: `item ${next} arrived` }], cursor: String(next) };
      },
    }),
  );
  return defineDefinitions({ assets, sensors });
}

/** Records a fresh version of every asset through the store's interface (what a full run would leave). */
async function fillFresh(instance: Instance<unknown>): Promise<Map<AssetKey, { id: number; dv: DataVersion }>> {
  const runId = 'bench-fill';
  await instance.store.createRun({ id: runId, selection: '*', partitions: null, trigger: 'test', now: Date.now() });
  const current = new Map<AssetKey, { id: number; dv: DataVersion }>();
  for (const asset of instance.graph.keys()) await commit(instance, current, asset, runId, `dv-${asset}-1`);
  await instance.store.finishRun(runId, 'succeeded', {}, null, Date.now());
  return current;
}

async function commit(
  instance: Instance<unknown>,
  current: Map<AssetKey, { id: number; dv: DataVersion }>,
  asset: AssetKey,
  runId: string,
  version: string,
): Promise<void> {
  const now = Date.now();
  const dv = version as DataVersion;
  const inputs = instance.graph
    .deps(asset)
    .map((d) => ({ asset: d.asset, partition: UNPARTITIONED, materializationId: current.get(d.asset)!.id, dataVersion: current.get(d.asset)!.dv }));
  const m: NewMaterialization = {
    asset,
    partition: UNPARTITIONED,
    runId,
    status: 'published',
    codeVersion: instance.graph.get(asset).codeVersion,
    dataVersion: dv,
    location: `${asset}/_/${dv}.json`,
    metadata: {},
    startedAt: now,
    endedAt: now,
    inputs,
    checks: [],
    events: [{ runId, ts: now, level: 'info', type: 'step_materialized', asset, partition: UNPARTITIONED, message: `${asset} materialized` }],
  };
  current.set(asset, { id: await instance.store.commitMaterialization(m), dv });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-daemon-'));
  const instance = await Instance.open(definitions(), { dataDir: dir });
  try {
    const current = await fillFresh(instance);
    // Ticks 30 s apart, as `materialize daemon` does by default, clear of the 06:00 on_cron due time.
    let now = Date.parse('2026-12-02T15:00:00Z');
    const tick = async () => {
      now += 30_000;
      const t = performance.now();
      const r = await runTick(instance, { now: new Date(now), execute: false, daemonId: 'bench' });
      const ms = performance.now() - t;
      const requests = r.ticks.reduce((n, t) => n + t.requested.length, 0);
      return { ms, writes: r.storeWrites, requests };
    };
    await tick(); // the first tick records every sensor's first evaluation

    const quiet: { ms: number; writes: number; requests: number }[] = [];
    for (let k = 0; k < TICKS; k++) quiet.push(await tick());

    const busy: { ms: number; writes: number; requests: number }[] = [];
    sensorState.busy = true;
    for (let k = 0; k < TICKS; k++) {
      // 10 sources re-materialized with new data since the last tick: their eager consumers are due.
      for (let s = 0; s < 10; s++) await commit(instance, current, key((k * 10 + s) % LAYER), 'bench-fill', `dv-${k}-${s}`);
      busy.push(await tick());
    }

    console.log(
      `daemon tick over ${ASSETS} assets with automation policies and ${SENSORS} sensors (${instance.store.constructor.name}, median of ${TICKS} ticks)`,
    );
    for (const [name, xs] of [
      ['quiet: nothing changed', quiet],
      ['busy: 10 sources changed, 10 sensor requests', busy],
    ] as const) {
      const ms = median(xs.map((x) => x.ms));
      console.log(
        `  ${name.padEnd(48)} ${`${ms.toFixed(1)} ms/tick`.padStart(15)}   goal < ${GOAL_MS} ms ${ms < GOAL_MS ? 'met' : 'NOT MET'}   ` +
          `${median(xs.map((x) => x.writes))} store writes/tick   ${median(xs.map((x) => x.requests))} run requests/tick`,
      );
    }
  } finally {
    await instance.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
