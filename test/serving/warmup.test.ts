// The start-up warm-up: /ready answers 503 `warming_up` until the server has sent itself
// /predict requests for SERVING_WARMUP_MS, requests are answered meanwhile, and the warm-up's
// own requests (marked with a per-process secret) appear neither in the access log nor in the
// Prometheus counters. A shutdown
// during the warm-up ends it at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configWith } from '../../serving/config.ts';
import { createLogger, startServer } from '../../serving/server.ts';
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
  const running = await startServer(instance, configWith({ dataDir: instance.dataDir, pollIntervalMs: 50, warmupMs: 1_500, logLevel: 'info', apiToken: TOKEN }), { log });
  try {
    const early = await call(running.url, 'GET', '/ready');
    assert.is(early.status, 503);
    assert.is(early.json.error.code, 'warming_up');
    assert.match(early.json.error.message, /SERVING_WARMUP_MS/);
    assert.is(early.headers.get('retry-after'), '1');
    // A client guessing at the warm-up header is logged and counted like any other.
    const during = await call(running.url, 'POST', '/predict', { body: { node: COMED, market: 'da', date: GOOD_DAY }, headers: { 'x-warmup': 'let-me-hide', authorization: `Bearer ${TOKEN}` } });
    assert.is(during.status, 200, during.text);

    await eventually(async () => (await call(running.url, 'GET', '/ready')).status === 200, 10_000, '/ready to answer 200 after the warm-up');
    const warmed = lines().find((l) => l['msg'] === 'warmed up') as { warmUp: { requests: number; days: number; statuses: Record<string, number>; request: { node: number; market: string; date: string } } } | undefined;
    assert.ok(warmed, 'the warm-up logs its summary');
    // How many fit in 1.5 s depends on the machine and its load: assert that it repeated, not a rate.
    assert.ok(warmed.warmUp.requests >= 2, `only ${warmed.warmUp.requests} warm-up requests`);
    assert.equal(warmed.warmUp.statuses, { 200: warmed.warmUp.requests }, 'the warm-up exercised the answering path (with the bearer token auth asks for)');
    assert.is(warmed.warmUp.request.node, COMED);
    assert.is(warmed.warmUp.request.market, 'da');
    assert.match(warmed.warmUp.request.date, /^\d{4}-\d{2}-\d{2}$/);
    // It also asked for other days of the node, each once (the answering path of a day not cached yet), all answered 200 above.
    assert.ok(warmed.warmUp.days >= 1, `the warm-up asked for ${warmed.warmUp.days} other days`);
    const featureMisses = (await call(running.url, 'GET', '/metrics')).text.match(/^feature_cache_total\{result="miss"\} (\d+)$/m);
    assert.ok(featureMisses !== null && Number(featureMisses[1]) >= warmed.warmUp.days, `each other day was computed, not answered from a cache: ${featureMisses?.[0]}`);

    // A probe of a pod that is not ready yet is a warning, not an error.
    const refused = lines().find((l) => l['path'] === '/ready' && l['status'] === 503);
    assert.is(refused?.['level'], 40);
    assert.is(refused?.['msg'], 'request refused');
    assert.not.ok(lines().some((l) => JSON.stringify(l).includes(TOKEN)), 'the token never reaches the log');
    const predictLines = lines().filter((l) => l['msg'] === 'request' && l['path'] === '/predict');
    assert.is(predictLines.length, 1, 'only the real /predict is in the access log');
    const metrics = (await call(running.url, 'GET', '/metrics')).text;
    assert.match(metrics, /^http_requests_total\{method="POST",route="\/predict",status="200"\} 1$/m);
    assert.match(metrics, /^predictions_total\{market="da",form="day",outcome="ok"\} 1$/m);
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
