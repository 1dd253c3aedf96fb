// The hardening fuzzer, bounded for CI: a fixed seed and a few hundred requests generated
// from every route's schema in /openapi.json (valid and mutated bodies, query strings and
// path parameters, odd methods, bad JSON, huge numbers, wrong types), against a real server
// on loopback over a small materialized store. No answer may be an unexpected 5xx, and every
// error must be JSON with an error code. bench/chaos.ts runs the same module for minutes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runHttpFuzz } from '../../bench/chaos/http-fuzz.ts';
import { call, materializeMini, openMini, startTestServer, type TestServer } from './support/server.ts';
import type { Instance } from '../../runtime/index.ts';

const SEED = 16;
const COUNT = Number(process.env['FUZZ_COUNT'] ?? 600);

let instance: Instance<unknown>;
let server: TestServer;

test.before(async () => {
  instance = await openMini();
  await materializeMini(instance);
  server = await startTestServer(instance, { requestTimeoutMs: 5_000 });
});

test.after(async () => {
  await server.stop();
  await instance.close();
});

test(`${COUNT} fuzzed requests over every route (seed ${SEED}): no unexpected 5xx, every error JSON with a code`, async () => {
  const r = await runHttpFuzz({ baseUrl: server.url, count: COUNT, seed: SEED, concurrency: 4 });
  const report =
    `${r.requests} requests, ${r.status5xx} unexpected 5xx, p99 ${r.p99Ms} ms, by status ${JSON.stringify(r.byStatus)}\n` +
    r.problems.map((p) => `  ${p.method} ${p.path}${p.body ? ` ${p.body}` : ''} -> ${p.status} (${p.why}): ${p.answer}`).join('\n');
  assert.is(r.requests, COUNT);
  assert.is(r.problemCount, 0, report);
  assert.is(r.status5xx, 0, report);
  // The fuzz reached past validation: some answers are forecasts, and some are the 501 of an odd method.
  assert.ok((r.byStatus['200'] ?? 0) > 0, report);
  assert.ok((r.byStatus['400'] ?? 0) > 0, report);
  assert.ok((r.byStatus['501'] ?? 0) > 0, report);
  // And the server is still well.
  assert.is((await call(server.url, 'GET', '/health')).status, 200);
});

test.run();
