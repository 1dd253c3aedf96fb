// The start-up warm-up: /ready answers 503 `warming_up` until the server has sent itself its
// /predict requests (or SERVING_WARMUP_MS passed), requests are answered meanwhile, and the
// warm-up's own requests (marked with a per-process secret) appear neither in the access log nor
// in the Prometheus counters: they write their access lines and metrics to a throwaway logger
// and registry, through the same code, so that code is warm too. A shutdown during the
// warm-up ends it at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configWith } from '../../serving/config.ts';
import { createLogger, startServer } from '../../serving/server.ts';
import { WARM_REPEATS } from '../../serving/warmup.ts';
import { call, COMED, eventually, GOOD_DAY, materializeMini, openMini } from './support/server.ts';

const TOKEN = 'warm-token-0123456789';
const instance = await openMini();
await materializeMini(instance);
test.after(() => instance.close());

function capturedLog(): { lines: () => Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const raw: string[] = [];
  const log = createLogger('info', { write: (line: string) => void raw.push(line) });
  return { lines: () => raw.flatMap((chunk) => chunk.trim().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>), log };
}

test('after start, /ready says warming_up until the warm-up ends; real requests are served meanwhile; the warm-up is not logged or counted', async () => {
  const { lines, log } = capturedLog();
  // Time enough for all of its requests on a loaded machine (it ends when they are answered).
  const running = await startServer(
    instance,
    configWith({ dataDir: instance.dataDir, pollIntervalMs: 50, warmupMs: 60_000, logLevel: 'info', apiToken: TOKEN }),
    { log },
  );
  try {
    const early = await call(running.url, 'GET', '/ready');
    assert.is(early.status, 503);
    assert.is(early.json.error.code, 'warming_up');
    assert.match(early.json.error.message, /SERVING_WARMUP_MS/);
    assert.is(early.headers.get('retry-after'), '1');
    // A client guessing at the warm-up header is logged and counted like any other.
    const during = await call(running.url, 'POST', '/predict', {
      body: { node: COMED, market: 'da', date: GOOD_DAY },
      headers: { 'x-warmup': 'let-me-hide', authorization: `Bearer ${TOKEN}` },
    });
    assert.is(during.status, 200, during.text);

    await eventually(async () => (await call(running.url, 'GET', '/ready')).status === 200, 60_000, '/ready to answer 200 after the warm-up');
    const warmed = lines().find((l) => l['msg'] === 'warmed up') as
      | {
          warmUp: {
            requests: number;
            days: number;
            cutShort: boolean;
            statuses: Record<string, number>;
            request: { node: number; market: string; date: string };
          };
        }
      | undefined;
    assert.ok(warmed, 'the warm-up logs its summary');
    // It is a number of requests, not a time: every one of them was sent and answered.
    assert.is(warmed.warmUp.cutShort, false);
    assert.is(warmed.warmUp.requests, warmed.warmUp.days + WARM_REPEATS);
    assert.equal(warmed.warmUp.statuses, { 200: warmed.warmUp.requests }, 'the warm-up exercised the answering path (with the bearer token auth asks for)');
    assert.is(warmed.warmUp.request.node, COMED);
    assert.is(warmed.warmUp.request.market, 'da');
    assert.match(warmed.warmUp.request.date, /^\d{4}-\d{2}-\d{2}$/);
    // It also asked for other days of the node, each once (the answering path of a day not cached yet), all answered 200 above.
    assert.ok(warmed.warmUp.days >= 1, `the warm-up asked for ${warmed.warmUp.days} other days`);
    const featureMisses = (await call(running.url, 'GET', '/metrics')).text.match(/^feature_cache_total\{result="miss"\} (\d+)$/m);
    assert.ok(
      featureMisses !== null && Number(featureMisses[1]) >= warmed.warmUp.days,
      `each other day was computed, not answered from a cache: ${featureMisses?.[0]}`,
    );

    // A probe of a pod that is not ready yet is a warning, not an error.
    const refused = lines().find((l) => l['path'] === '/ready' && l['status'] === 503);
    assert.is(refused?.['level'], 40);
    assert.is(refused?.['msg'], 'request refused');
    assert.not.ok(
      lines().some((l) => JSON.stringify(l).includes(TOKEN)),
      'the token never reaches the log',
    );
    const predictLines = lines().filter((l) => l['msg'] === 'request' && l['path'] === '/predict');
    assert.is(predictLines.length, 1, 'only the real /predict is in the access log');
    const metrics = (await call(running.url, 'GET', '/metrics')).text;
    assert.match(metrics, /^http_requests_total\{method="POST",route="\/predict",status="200"\} 1$/m);
    assert.match(metrics, /^predictions_total\{market="da",form="day",outcome="ok"\} 1$/m);
    // Its access lines and request metrics went through the same code to the throwaway sinks:
    // every warm-up request counted there (the other days by Koa, the repeats by the cached lane), none of the client's.
    const sinks = running.deps.warmUpSinks;
    const counted = (await sinks.metrics.registry.getSingleMetricAsString('http_requests_total')).match(/route="\/predict",status="200"\} (\d+)$/m);
    assert.is(Number(counted?.[1]), warmed.warmUp.requests, 'each warm-up request counted in the throwaway registry');
    assert.ok(running.deps.predictLane.answered >= WARM_REPEATS - 8, `the cached lane answered ${running.deps.predictLane.answered} of the repeats`);
  } finally {
    await running.close();
  }
});

test('closing the server during the warm-up ends it at once and drains cleanly', async () => {
  const { lines, log } = capturedLog();
  const running = await startServer(instance, configWith({ dataDir: instance.dataDir, pollIntervalMs: 50, warmupMs: 60_000, logLevel: 'info' }), { log });
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  assert.is(await running.close(), true);
  // The warm-up was set to last 60 s: closing in well under that means it was cut short, not waited out
  // (the bound is far from any machine's speed, so load cannot make it flaky).
  assert.ok(Date.now() - started < 30_000, `close took ${Date.now() - started} ms`);
  const summary = lines().find((l) => l['msg'] === 'warmed up') as { warmUp: { requests: number } } | undefined;
  assert.ok(summary && summary.warmUp.requests >= 0, 'the warm-up ran, was cut short and logged its summary');
});

test.run();
