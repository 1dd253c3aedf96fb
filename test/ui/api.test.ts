// The UI's JSON API over a real store, through the real server (HTTP on
// loopback): statuses with causes, asset pages, partitions, lineage, runs,
// starting a materialization, auth, and the OpenAPI document.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assetKey, UNPARTITIONED, type Instance } from '../../runtime/index.ts';
import type { DemoResources } from './helpers/defs.ts';
import { demoScenario, STALE_DAY } from './helpers/scenario.ts';
import { startUiServer, type TestServer } from './helpers/server.ts';

let srv: TestServer<DemoResources>;
let instance: Instance<DemoResources>;
let resources: DemoResources;

const get = async (path: string) => {
  const res = await fetch(srv.url + path);
  return { status: res.status, body: (await res.json()) as any };
};
const enc = encodeURIComponent;

test.before(async () => {
  ({ instance, resources } = await demoScenario());
  // Two runs at once, so a third waits in the run queue.
  srv = await startUiServer(instance, { runQueue: { maxConcurrentRuns: 2, poolLimits: {} } });
});
test.after(async () => {
  await srv?.stop();
});

test('GET /api/graph: every asset with its status, partition counts and causes, and the edges', async () => {
  const { status, body } = await get('/api/graph');
  assert.is(status, 200);
  const by = Object.fromEntries(body.nodes.map((n: any) => [n.key, n]));
  assert.equal(Object.fromEntries(body.nodes.map((n: any) => [n.key, n.status])), {
    'demo/readings': 'fresh',
    'demo/daily_mean': 'stale',
    'demo/summary': 'stale',
    'demo/flaky': 'failed',
    'demo/report': 'stale',
    'demo/later': 'missing',
  });
  assert.equal(by['demo/daily_mean'].counts, { total: 6, fresh: 5, stale: 1, missing: 0, failed: 0, running: 0 });
  assert.match(
    by['demo/daily_mean'].causes[0].text,
    new RegExp(`upstream demo/readings\\[${STALE_DAY}\\] now has data version [0-9a-f]{8}; this one consumed [0-9a-f]{8}`),
  );
  assert.match(by['demo/flaky'].causes[0].text, /latest attempt failed \(run [^)]+\): the upstream service answered 503/);
  assert.ok(body.edges.some((e: any) => e.from === 'demo/summary' && e.to === 'demo/report'));
  assert.equal(body.totals, { fresh: 1, stale: 3, missing: 1, failed: 1, running: 0 });
  // Polling an unchanged graph costs a 304.
  const first = await fetch(srv.url + '/api/graph');
  const etag = first.headers.get('etag')!;
  assert.is((await fetch(srv.url + '/api/graph', { headers: { 'If-None-Match': etag } })).status, 304);
});

test('GET /api/assets/:key: definition, current version, causes, history with checks', async () => {
  const { status, body } = await get(`/api/assets/${enc('demo/daily_mean')}`);
  assert.is(status, 200);
  assert.is(body.description, 'Mean of one day of readings.');
  assert.is(body.codeVersion, '1');
  assert.is(body.status, 'stale');
  assert.equal(body.deps, [{ asset: 'demo/readings', mapping: 'same partition' }]);
  assert.is(body.history.length, 6);
  assert.ok(body.current.dataVersion.length >= 8);
  assert.is(body.latestChecks.results[0].name, 'has_24_hours');
  assert.equal(body.latestChecks.results[0].metadata, { hours: 24, expected: 24 });
  assert.is(body.history[0].metadata.mean, body.history[0].metadata.mean);
  assert.equal(body.views, {});

  const unknown = await get(`/api/assets/${enc('demo/nope')}`);
  assert.is(unknown.status, 404);
  assert.match(unknown.body.error.message, /No asset "demo\/nope"/);
});

test('GET /api/assets/:key/partitions: newest first, filtered by status, with causes', async () => {
  const all = await get(`/api/assets/${enc('demo/daily_mean')}/partitions`);
  assert.equal(
    all.body.partitions.map((p: any) => p.partition),
    ['2024-01-06', '2024-01-05', '2024-01-04', '2024-01-03', '2024-01-02', '2024-01-01'],
  );
  const stale = await get(`/api/assets/${enc('demo/daily_mean')}/partitions?status=stale`);
  assert.is(stale.body.matching, 1);
  assert.is(stale.body.partitions[0].partition, STALE_DAY);
  assert.match(stale.body.partitions[0].causes[0], /now has data version/);
  const bad = await get(`/api/assets/${enc('demo/daily_mean')}/partitions?status=purple`);
  assert.is(bad.status, 400);
  assert.match(bad.body.error.message, /query\/status/);
});

test('GET /api/materializations/:id/lineage: what it consumed, with versions, and what consumed it', async () => {
  const summary = (await get(`/api/assets/${enc('demo/summary')}`)).body;
  const { status, body } = await get(`/api/materializations/${summary.current.materializationId}/lineage`);
  assert.is(status, 200);
  assert.is(body.materialization.asset, 'demo/summary');
  assert.is(body.materialization.current, true);
  const up = body.lineage.upstream[0];
  assert.is(up.asset, 'demo/daily_mean');
  assert.is(up.count, 6);
  assert.is(up.lastPartition, '2024-01-06');
  // Each consumed daily_mean is itself traced to the readings it consumed.
  assert.is(up.entries[0].groups[0].asset, 'demo/readings');
  const consumers = body.lineage.downstream.map((g: any) => g.asset).sort();
  assert.equal(consumers, ['demo/flaky', 'demo/report']);
  assert.is((await get('/api/materializations/999999/lineage')).status, 404);
});

test('GET /api/runs and /api/runs/:id: the runs, one run with progress and events', async () => {
  const { body } = await get('/api/runs');
  assert.is(body.runs.length, 3);
  const failed = body.runs.find((r: any) => r.status === 'failed');
  assert.ok(failed, 'the flaky run is listed as failed');
  const run = (await get(`/api/runs/${enc(failed.id)}`)).body;
  assert.is(run.progress.failed, 1);
  assert.ok(run.events.some((e: any) => e.type === 'step_failed' && /503/.test(e.message)));
  const after = (await get(`/api/runs/${enc(failed.id)}/events?afterId=${run.events[0].id}`)).body;
  assert.is(after.events.length, run.events.length - 1);
});

test('POST /api/materialize starts a run at once; its stream shows progress; the asset ends fresh', async () => {
  resources.slowMs = 200;
  const res = await fetch(`${srv.url}/api/materialize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ selection: 'demo/report', mode: 'with-upstream' }),
  });
  assert.is(res.status, 202);
  const started = (await res.json()) as any;
  assert.is(started.selection, '+demo/report');
  // daily_mean[] runs; summary and report run if it changes; the 6 readings and 5 fresh daily means are skipped.
  assert.equal(started.planned, { run: 1, conditional: 2, skip: 11 });
  // Server-sent events until the run ends.
  const stream = await fetch(`${srv.url}${started.links.stream}`);
  assert.is(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const text = await stream.text();
  assert.match(text, /event: run-event\nid: |id: \d+\nevent: run-event/);
  assert.match(text, /"type":"step_materialized"/);
  assert.match(text, /event: end\ndata: \{"run":\{"id":"[^"]+","selection":"\+demo\/report"[\s\S]*"status":"succeeded"/);
  const graph = (await get('/api/graph')).body;
  const statusOf = (k: string) => graph.nodes.find((n: any) => n.key === k).status;
  assert.is(statusOf('demo/report'), 'fresh');
  assert.is(statusOf('demo/daily_mean'), 'fresh');
  resources.slowMs = 0;
});

test('POST /api/materialize: an unknown asset or a bad mode is a 400 that says what to do', async () => {
  const post = (body: unknown) =>
    fetch(`${srv.url}/api/materialize`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const unknown = await post({ selection: 'demo/reprot', mode: 'stale-only' });
  assert.is(unknown.status, 400);
  assert.match(((await unknown.json()) as any).error.message, /Unknown asset "demo\/reprot". Did you mean "demo\/report"/);
  const badMode = await post({ selection: 'demo/report', mode: 'everything' });
  assert.is(badMode.status, 400);
  assert.match(((await badMode.json()) as any).error.message, /body\/mode/);
});

test('POST /api/materialize: a third concurrent run is queued, listed by GET /api/queue, and runs when a slot frees; a queued run can be canceled', async () => {
  resources.slowMs = 1500;
  const post = (partition: string) =>
    fetch(`${srv.url}/api/materialize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ selection: 'demo/readings', mode: 'force', partitions: partition }),
    });
  const first = (await (await post('2024-01-01')).json()) as any;
  const second = (await (await post('2024-01-02')).json()) as any;
  const thirdRes = await post('2024-01-03');
  const fourthRes = await post('2024-01-04');
  assert.equal([thirdRes.status, fourthRes.status], [202, 202]);
  const third = (await thirdRes.json()) as any;
  const fourth = (await fourthRes.json()) as any;
  assert.equal([first.state, second.state, third.state, fourth.state], ['started', 'started', 'queued', 'queued']);
  assert.is(third.waiting, '2 runs are running, the most allowed at once (RUN_QUEUE_MAX_CONCURRENT=2)');
  const queue = (await get('/api/queue')).body.runs;
  assert.equal(
    queue.map((q: any) => [q.runId, q.state]),
    [
      [first.runId, 'running'],
      [second.runId, 'running'],
      [third.runId, 'queued'],
      [fourth.runId, 'queued'],
    ],
  );
  assert.is(queue[2].waiting, third.waiting);
  // The fourth is canceled while queued: it never starts.
  assert.is((await fetch(`${srv.url}/api/runs/${enc(fourth.runId)}/cancel`, { method: 'POST' })).status, 202);
  for (const r of [first, second]) await (await fetch(`${srv.url}${r.links.stream}`)).text();
  // The third starts once a slot is free, and ends as any run does.
  for (let i = 0; i < 100 && (await fetch(`${srv.url}/api/runs/${enc(third.runId)}`)).status === 404; i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(await (await fetch(`${srv.url}${third.links.stream}`)).text(), /event: end\ndata: .*"status":"succeeded"/);
  assert.is((await fetch(`${srv.url}/api/runs/${enc(fourth.runId)}`)).status, 404, 'the canceled queued run never started');
  assert.equal((await get('/api/queue')).body.runs, []);
  resources.slowMs = 0;
});

test('the event stream of a long run closes every few seconds and resumes after Last-Event-ID, losing nothing', async () => {
  resources.slowMs = 6500;
  const res = await fetch(`${srv.url}/api/materialize`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ selection: 'demo/summary', mode: 'force' }),
  });
  const { links } = (await res.json()) as any;
  const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
  const first = await (await fetch(`${srv.url}${links.stream}`)).text();
  assert.not.match(first, /event: end/, 'the first stream closed before the run ended');
  const seen = ids(first);
  assert.ok(seen.length >= 2, 'run_started and step_started were sent');
  const second = await (await fetch(`${srv.url}${links.stream}`, { headers: { 'Last-Event-ID': String(seen[seen.length - 1]) } })).text();
  assert.match(second, /event: end\ndata: .*"status":"succeeded"/);
  const all = [...seen, ...ids(second)];
  const stored = ((await (await fetch(`${srv.url}${links.events}`)).json()) as any).events.map((e: any) => e.id);
  assert.equal(all, stored, 'every stored event exactly once, in order');
  resources.slowMs = 0;
});

test('POST /api/runs/:id/cancel stops a run started from the UI; it ends canceled, nothing half-done is published', async () => {
  resources.slowMs = 5000;
  const before = (await get(`/api/assets/${enc('demo/summary')}`)).body.current.dataVersion;
  const started = (await (
    await fetch(`${srv.url}/api/materialize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ selection: 'demo/summary', mode: 'force' }),
    })
  ).json()) as any;
  // Wait until the step is running, then cancel.
  for (let i = 0; i < 50 && !(await get(started.links.events)).body.events.some((e: any) => e.type === 'step_started'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const cancel = await fetch(`${srv.url}/api/runs/${enc(started.runId)}/cancel`, { method: 'POST' });
  assert.is(cancel.status, 202);
  const end = await (await fetch(`${srv.url}${started.links.stream}`)).text();
  assert.match(end, /event: end\ndata: .*"status":"canceled"/);
  assert.is((await get(`/api/assets/${enc('demo/summary')}`)).body.current.dataVersion, before);
  const again = await fetch(`${srv.url}/api/runs/${enc(started.runId)}/cancel`, { method: 'POST' });
  assert.is(again.status, 409);
  const conflict = ((await again.json()) as any).error;
  assert.match(conflict.message, /is not in progress \(it canceled\)/);
  assert.is(conflict.code, 'conflict');
  assert.is((await fetch(`${srv.url}/api/runs/nope/cancel`, { method: 'POST' })).status, 404);
  resources.slowMs = 0;
});

test('the OpenAPI document lists every /api route with its schemas', async () => {
  const doc = (await get('/openapi.json')).body;
  for (const path of [
    '/api/graph',
    '/api/assets/{key}',
    '/api/assets/{key}/partitions',
    '/api/materializations/{id}/lineage',
    '/api/runs',
    '/api/runs/{id}',
    '/api/runs/{id}/events',
    '/api/runs/{id}/stream',
  ]) {
    assert.ok(doc.paths[path]?.get, `GET ${path} is documented`);
  }
  const post = doc.paths['/api/materialize'].post;
  assert.equal(post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/UiMaterializeRequest' });
  assert.ok(post.responses['401'], 'the token requirement is documented');
  assert.ok(doc.components.schemas.UiGraph.properties.nodes);
  assert.ok(doc.components.schemas.UiLineageGroup);
});

test('closing the server (SIGTERM) cancels the runs started from the UI: recorded canceled at once, the previous version stays current', async () => {
  const own = await demoScenario();
  const server = await startUiServer(own.instance);
  try {
    own.resources.slowMs = 60_000;
    const before = (await own.instance.store.current(assetKey('demo/summary'), UNPARTITIONED))?.dataVersion;
    const started = (await (
      await fetch(`${server.url}/api/materialize`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ selection: 'demo/summary', mode: 'force' }),
      })
    ).json()) as any;
    for (
      let i = 0;
      i < 100 && !((await (await fetch(`${server.url}${started.links.events}`)).json()) as any).events.some((e: any) => e.type === 'step_started');
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    assert.is((await own.instance.store.getRun(started.runId))?.status, 'running');
    await server.server.close();
    assert.is(
      (await own.instance.store.getRun(started.runId))?.status,
      'canceled',
      'the run is closed as canceled by the shutdown, not left running for the next process to find',
    );
    assert.is((await own.instance.store.current(assetKey('demo/summary'), UNPARTITIONED))?.dataVersion, before);
  } finally {
    own.resources.slowMs = 0;
    await server.stop();
  }
});

test.run();
