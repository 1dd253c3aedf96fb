// UI benchmark (figures printed, nothing asserted): time to first render of the
// graph page for a synthetic store of 1,000 assets, in headless Chromium, against
// the real server. Goal: under 1.5 s (Dagster users report its lineage page
// hanging at 200 to 500 assets).
//
// The store is synthetic: 200 daily-partitioned assets (30 days each) in five
// layers, then 800 unpartitioned ones in twenty, each depending on one to three
// assets of the layer before; every version is recorded through the lineage
// store's API (no asset code runs). Then some sources get new data (their
// downstream goes stale), the last layer stays missing and a failed run is
// recorded, so every status shows.
//
// Figures: first render = navigation start to the first frame with the graph
// drawn (performance.now() in the page, two animation frames after drawing);
// first visit = a new browser page right after the server started (the server
// precomputes the graph view in the background at start), reloads = the same
// page reloaded while the store is unchanged. Also /api/graph alone, right after
// a store change (computed) and unchanged (cached).
// Run: npx tsx bench/ui.ts   (needs Debian's chromium; CHROMIUM_PATH to override)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  dailyPartitions,
  defineAsset,
  defineDefinitions,
  Instance,
  UNPARTITIONED,
  type AssetKey,
  type CodeVersion,
  type DataVersion,
  type InputRecord,
} from '../runtime/index.ts';
import { configWith } from '../serving/config.ts';
import { startServer } from '../serving/server.ts';
import { uiApiRoutes } from '../serving/ui-api/index.ts';
import { launchBrowser, screenshot } from '../test/ui/helpers/browser.ts';

const PARTITIONED_LAYERS = 5;
const PARTITIONED_PER_LAYER = 40;
const UNPARTITIONED_LAYERS = 20;
const UNPARTITIONED_PER_LAYER = 40;
const DAYS = dailyPartitions({ start: '2024-01-01', end: '2024-01-30' });

function syntheticDefinitions() {
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const layers: string[][] = [];
  const assets = [];
  const layerCount = PARTITIONED_LAYERS + UNPARTITIONED_LAYERS;
  for (let l = 0; l < layerCount; l++) {
    const partitioned = l < PARTITIONED_LAYERS;
    const per = partitioned ? PARTITIONED_PER_LAYER : UNPARTITIONED_PER_LAYER;
    const keys: string[] = [];
    for (let i = 0; i < per; i++) {
      const key = `synthetic/layer${String(l).padStart(2, '0')}/asset${String(i).padStart(3, '0')}`;
      const deps = new Set<string>();
      if (l > 0) {
        const previous = layers[l - 1]!;
        const n = 1 + Math.floor(rnd() * 3);
        for (let j = 0; j < n; j++) deps.add(previous[Math.floor(rnd() * previous.length)]!);
      }
      assets.push(
        defineAsset({
          key,
          group: partitioned ? 'ingest' : 'models',
          description: `Synthetic asset ${i} of layer ${l}.`,
          codeVersion: '1',
          ...(partitioned ? { partitions: DAYS } : {}),
          deps: [...deps],
          io: 'json',
          materialize: () => ({ value: null }),
        }),
      );
      keys.push(key);
    }
    layers.push(keys);
  }
  return defineDefinitions({ assets });
}

/** Records a version of every asset partition, then makes some stale, some missing, some failed. */
async function fillStore(instance: Instance<unknown>): Promise<void> {
  const { store, graph } = instance;
  const now = new Date('2024-02-01T00:00:00Z');
  let t = now.getTime();
  let serial = 0;
  const version = () => `synthetic${(serial++).toString(16).padStart(8, '0')}` as DataVersion;
  const run = async (id: string, body: () => Promise<void>, status: 'succeeded' | 'failed' = 'succeeded') => {
    await store.createRun({ id, selection: '*', partitions: null, trigger: 'test', now: t });
    await body();
    await store.finishRun(id, status, {}, status === 'failed' ? 'one step failed' : null, ++t);
  };
  const commit = async (runId: string, asset: AssetKey, partition: string) => {
    const inputs: InputRecord[] = [];
    for (const dep of graph.deps(asset)) {
      const upstreamPartitions = graph.get(dep.asset).partitions ? (dep.mapping.kind === 'all' ? DAYS.keys(now) : [partition]) : [UNPARTITIONED];
      for (const p of upstreamPartitions) {
        const c = (await store.current(dep.asset, p))!;
        inputs.push({ asset: dep.asset, partition: p, materializationId: c.id, dataVersion: c.dataVersion });
      }
    }
    const started = ++t;
    await store.commitMaterialization({
      asset,
      partition,
      runId,
      status: 'published',
      codeVersion: graph.get(asset).codeVersion as CodeVersion,
      dataVersion: version(),
      location: null as unknown as string,
      metadata: { rows: 24 },
      startedAt: started,
      endedAt: ++t,
      inputs,
      checks: [],
      events: [],
    });
  };
  const keys = graph.keys();
  const lastLayer = keys.filter((k) => k.includes(`layer${String(PARTITIONED_LAYERS + UNPARTITIONED_LAYERS - 1).padStart(2, '0')}`));
  await run('bench-initial', async () => {
    for (const key of keys) {
      if (lastLayer.includes(key)) continue; // missing
      for (const p of graph.get(key).partitions ? DAYS.keys(now) : [UNPARTITIONED]) await commit('bench-initial', key, p);
    }
  });
  // New data in two partitions of three sources: everything downstream of them is stale.
  await run('bench-update', async () => {
    for (const key of keys.slice(0, 3)) for (const p of ['2024-01-29', '2024-01-30']) await commit('bench-update', key, p);
  });
  // A failed run: five assets' latest attempts failed.
  await run(
    'bench-failed',
    async () => {
      const failed = keys.slice(600, 605);
      await store.appendEvents(
        failed.map((asset) => ({
          runId: 'bench-failed',
          ts: ++t,
          level: 'error',
          type: 'step_failed',
          asset,
          partition: '',
          message: `${asset}: FAILED`,
          data: { error: 'synthetic failure' },
        })),
      );
    },
    'failed',
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-ui-'));
try {
  const defs = syntheticDefinitions();
  const instance = await Instance.open(defs, { dataDir });
  let t0 = performance.now();
  await fillStore(instance as Instance<unknown>);
  console.log(
    `synthetic store: ${defs.assets.length} assets, ${instance.graph.keys().reduce((n, k) => n + instance.graph.deps(k).length, 0)} edges, recorded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const server = await startServer(instance as Instance<unknown>, configWith({ dataDir }), { modules: [uiApiRoutes] });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const firstRender = async (reload: boolean): Promise<{ ms: number; nodes: number; drawMs: number }> => {
      if (reload) await page.reload();
      else await page.goto(`${server.url}/`);
      await page.waitForSelector('#graph-svg[data-painted-at]', { timeout: 60_000 });
      return page.evaluate(() => {
        const svg = document.querySelector('#graph-svg') as SVGSVGElement;
        return { ms: Number(svg.dataset.paintedAt), nodes: svg.querySelectorAll('.node').length, drawMs: Number(svg.dataset.renderedMs) };
      });
    };
    const cold = await firstRender(false);
    const warm: number[] = [];
    const draw: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await firstRender(true);
      warm.push(r.ms);
      draw.push(r.drawMs);
    }
    const statuses = await page.$$eval('#graph-svg .node', (ns) => {
      const c: Record<string, number> = {};
      for (const n of ns) c[(n as SVGGElement).dataset.status!] = (c[(n as SVGGElement).dataset.status!] ?? 0) + 1;
      return c;
    });
    await screenshot(page, 'bench-graph-1000');
    // Zoomed in around the middle, as a user would look at it.
    const box = (await page.locator('#graph-svg').boundingBox())!;
    for (let i = 0; i < 8; i++) await page.mouse.wheel(0, -200).then(() => page.mouse.move(box.x + box.width / 2, box.y + box.height / 2));
    await page.waitForTimeout(100);
    await screenshot(page, 'bench-graph-1000-zoomed');
    console.log(
      `nodes drawn: ${cold.nodes} (${Object.entries(statuses)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ')})`,
    );
    console.log(
      `graph page, time to first render, first visit after server start:   ${cold.ms.toFixed(0).padStart(6)} ms   goal < 1500 ms ${cold.ms < 1500 ? 'met' : 'NOT MET'}`,
    );
    console.log(
      `graph page, time to first render, reload (median of 5):              ${median(warm).toFixed(0).padStart(6)} ms   goal < 1500 ms ${median(warm) < 1500 ? 'met' : 'NOT MET'}   (all: ${warm.map((w) => w.toFixed(0)).join(', ')})`,
    );
    console.log(`  of which fetch + layout + drawing in the page (median):            ${median(draw).toFixed(0).padStart(6)} ms`);

    // The API alone: a cold view (store changed) and a cached one.
    await instance.store.appendEvents([{ runId: 'bench-failed', ts: Date.now(), level: 'info', type: 'log', message: 'invalidate the cache' }]);
    t0 = performance.now();
    const res = await fetch(`${server.url}/api/graph`);
    const bytes = (await res.arrayBuffer()).byteLength;
    const coldApi = performance.now() - t0;
    const cached: number[] = [];
    for (let i = 0; i < 5; i++) {
      t0 = performance.now();
      await (await fetch(`${server.url}/api/graph`)).arrayBuffer();
      cached.push(performance.now() - t0);
    }
    console.log(
      `GET /api/graph at 1,000 assets: ${coldApi.toFixed(0)} ms after a store change, ${median(cached).toFixed(0)} ms cached; ${(bytes / 1024).toFixed(0)} KiB`,
    );
  } finally {
    await browser.close();
    await server.close();
    await instance.close();
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
