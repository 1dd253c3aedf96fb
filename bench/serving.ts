// Load test of the inference server: POST /predict for one node-day, from a separate
// process (wrk, C, one thread so the server keeps most of the 2 cores), 64 connections,
// against the server started as `materialize serve` in its own process with its normal JSON
// access log (written to a file). A 3 s warm-up load on the fresh process is reported on its
// own (cold start); then three measured runs of 20 s each. Prints req/s, p50, p99, errors
// and the server's RSS per run, and a bare node:http server under the same load as the
// floor this machine sets at that moment (its first 3 s too, beside the cold start). Asserts nothing.
//
//   OMP_WAIT_POLICY=passive npx tsx bench/serving.ts
//   env: BENCH_DURATION (20s) BENCH_RUNS (3) BENCH_WARMUP (3s) BENCH_CONNECTIONS (64) BENCH_THREADS (1)
//        BENCH_LOG_LEVEL (info: one access-log line per request, as in production)
//        BENCH_DATA_DIR + BENCH_NODE + BENCH_DATE + BENCH_MARKET to load an existing store
//        (default: a temp store filled by the test mini PJM graph: COMED, 2016-12-20, da)
//        BENCH_KEEP_LOG: copy the server's log (stdout and stderr) to this file
//        BENCH_SERVER_NODE_ARGS: extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
// Needs wrk (Debian: apt-get install -y wrk). The cores may be shared with other work.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { Instance, materialize } from '../runtime/index.ts';
import { configureXGBoost } from '../lib/xgboost/config.ts';
import { ompWaitPolicy } from '../runtime/settings.ts';

// Like the CLI and the server: OpenMP's idle policy from the one settings loader, before XGBoost loads.
configureXGBoost({ ompWaitPolicy: ompWaitPolicy(process.env) });

const root = fileURLToPath(new URL('..', import.meta.url));
const duration = process.env['BENCH_DURATION'] ?? '20s';
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 64);
const threads = Number(process.env['BENCH_THREADS'] ?? 1);
const warmup = process.env['BENCH_WARMUP'] ?? '3s';
const runs = Number(process.env['BENCH_RUNS'] ?? 3);
const miniDefinitions = join(root, 'test/serving/support/mini-pjm.ts');

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is not installed (Debian: apt-get install -y wrk).');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'bench-serving-'));
let dataDir = process.env['BENCH_DATA_DIR'];
let definitions: string | undefined;
if (!dataDir) {
  dataDir = join(work, 'data');
  definitions = miniDefinitions;
  const defs = (await import('../test/serving/support/mini-pjm.ts')).default;
  const instance = await Instance.open(defs, { dataDir });
  const started = Date.now();
  const result = await materialize(instance, { trigger: 'test' });
  await instance.close();
  if (result.status !== 'succeeded') throw new Error(`materializing the mini PJM store: ${result.status}`);
  console.log(`store: mini PJM graph materialized in ${((Date.now() - started) / 1000).toFixed(1)} s (${dataDir})`);
}
const body = JSON.stringify({
  node: process.env['BENCH_NODE'] ? (/^\d+$/.test(process.env['BENCH_NODE']) ? Number(process.env['BENCH_NODE']) : process.env['BENCH_NODE']) : 33092371,
  market: process.env['BENCH_MARKET'] ?? 'da',
  date: process.env['BENCH_DATE'] ?? '2016-12-20',
});

// The server, as in production, logging every request as a JSON line.
const logPath = join(work, 'server.log');
const logFd = openSync(logPath, 'w');
const serverNodeArgs = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const server = spawn(process.execPath, [...serverNodeArgs, join(root, 'bin/materialize.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'], {
  cwd: root,
  env: {
    ...process.env,
    DATA_DIR: dataDir,
    ...(definitions ? { ASSET_DEFINITIONS: definitions } : {}),
    LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'info',
    OMP_WAIT_POLICY: 'passive',
  },
  stdio: ['ignore', logFd, logFd],
});
closeSync(logFd);
// However the bench ends (a failed warm-up request, a missing wrk), the server goes with it.
process.once('exit', () => server.kill());
// As Kubernetes does: traffic only once /ready says ready (a model is loaded and the start-up
// warm-up, SERVING_WARMUP_MS, is over).
const startedAt = performance.now();
await waitFor(async () => (await fetch(`${url}/ready`).catch(() => undefined))?.ok, 60_000, 'the server to be ready');
const readyAfterMs = performance.now() - startedAt;
const first = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
const answer = await first.text();
if (first.status !== 200) throw new Error(`warm-up /predict answered ${first.status}: ${answer}`);
const rssBefore = rssMb(server.pid!);

const script = join(work, 'predict.lua');
writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`);
console.log(`load: wrk -t${threads} -c${connections} POST /predict ${body}`);

// A fresh process first runs its code unoptimized: without the server's warm-up the first
// second or so of load was slower (~3k -> ~9k req/s over ~1.2 s) with a tail of 100+ ms. The
// first seconds after /ready are loaded and reported on their own; the goal is judged on the
// steady state after them.
const cold = await loadWith(`${url}/predict`, warmup);
const metricsBefore = await serverMetrics();
let rssPeak = rssBefore;
const cpuBefore = cpuSeconds(server.pid!);
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(server.pid!))), 500);
const measured: LoadResult[] = [];
for (let i = 0; i < runs; i++) measured.push(await loadWith(`${url}/predict`, duration));
clearInterval(sampler);
const rssAfter = rssMb(server.pid!);
const cpuUsed = cpuSeconds(server.pid!) - cpuBefore;
const metricsAfter = await serverMetrics();

// The uncached path: node-days never asked before (sequential), each computed from the node's
// rows in memory (serving/data/node-rows.ts) and forecast by the model.
const uncachedMs: number[] = [];
if (!process.env['BENCH_DATA_DIR']) {
  for (let d = 10; d < 30; d++) {
    const started = performance.now();
    const r = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...JSON.parse(body), date: `2016-11-${d}` }),
    });
    await r.text();
    if (r.status === 200) uncachedMs.push(performance.now() - started);
  }
  uncachedMs.sort((a, b) => a - b);
}

server.kill('SIGTERM');
const exitCode = await new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
// The floor this machine sets at this moment: a bare node:http server sending the same
// answer, loaded the same way (after the same warm-up). Shared cores make tail latency vary
// from minute to minute.
writeFileSync(join(work, 'answer.json'), answer);
const reference = spawn(
  process.execPath,
  [
    '-e',
    `const b = require('fs').readFileSync(${JSON.stringify(join(work, 'answer.json'))});
require('http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length }); s.end(b); }); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const refPort = await new Promise<string>((resolve) => reference.stdout!.once('data', (d) => resolve(String(d).trim())));
// Its first seconds too: the floor of the cold-start figure at this moment (on shared cores it moves with the load).
const refCold = await loadWith(`http://127.0.0.1:${refPort}/`, warmup);
const refCpuBefore = cpuSeconds(reference.pid!);
const ref = await loadWith(`http://127.0.0.1:${refPort}/`, duration);
const refCpuUsed = cpuSeconds(reference.pid!) - refCpuBefore;
reference.kill();

const logLines = readFileSync(logPath, 'utf8')
  .split('\n')
  .filter((l) => l.includes('"msg":"request"')).length;
const total = measured.reduce((a, r) => a + r.total, 0);
const errors = measured.reduce((a, r) => a + r.non2xx + r.socketErrors, 0);
const inServer = (le: string): string => {
  const served = metricsAfter.bucket('+Inf') - metricsBefore.bucket('+Inf');
  return `${((100 * (metricsAfter.bucket(le) - metricsBefore.bucket(le))) / Math.max(served, 1)).toFixed(2)}%`;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (x: number): string => `${x.toFixed(2)} ms`;
const meets = (r: LoadResult): boolean => r.reqPerSec >= 5000 && r.p99Ms < 20 && r.non2xx + r.socketErrors === 0;
const cpuPerRequestUs = (cpuUsed / Math.max(total, 1)) * 1e6;
const refCpuPerRequestUs = (refCpuUsed / Math.max(ref.total, 1)) * 1e6;
const cpuRatio = cpuPerRequestUs / refCpuPerRequestUs;
const throughputShare = median(measured.map((r) => r.reqPerSec)) / ref.reqPerSec;
const steadyP99 = Math.max(...measured.map((r) => r.p99Ms));

console.log(measured[measured.length - 1]!.text.trim());
console.log('');
console.log('serving bench (POST /predict, one node-day, cached features):');
// The headline: the cost of a request next to the floor this machine sets in the same run.
console.log(
  `  HEADLINE        server CPU per request ${cpuPerRequestUs.toFixed(0)} µs = ${cpuRatio.toFixed(2)}× the bare node:http reference's ${refCpuPerRequestUs.toFixed(0)} µs (goal ≤ 2.5×); ` +
    `throughput ${(throughputShare * 100).toFixed(0)} % of the reference's (goal ≥ 40 %); p99 worst ${ms(steadyP99)} steady (goal < 10 ms), ${ms(cold.p99Ms)} in the first ${warmup} after /ready (goal < 50 ms)`,
);
console.log(
  `  start           ready after ${(readyAfterMs / 1000).toFixed(1)} s (process start, model load, warm-up of SERVING_WARMUP_MS=${process.env['SERVING_WARMUP_MS'] ?? 'default'})`,
);
console.log(
  `  cold start      first ${warmup} of load after /ready: ${cold.reqPerSec.toFixed(0)} req/s, p50 ${ms(cold.p50Ms)}, p99 ${ms(cold.p99Ms)}, max ${ms(cold.maxMs)}, ${cold.non2xx + cold.socketErrors} errors; ` +
    `the bare reference's first ${warmup} in the same run: p99 ${ms(refCold.p99Ms)} (ours ${(cold.p99Ms / refCold.p99Ms).toFixed(1)}× that)`,
);
for (const [i, r] of measured.entries()) {
  console.log(
    `  run ${i + 1}/${runs}       ${duration}, ${connections} connections: ${r.reqPerSec.toFixed(0)} req/s, p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}, max ${ms(r.maxMs)}, ${r.non2xx} non-2xx, ${r.socketErrors} socket errors${meets(r) ? '' : '  <- misses the goal'}`,
  );
}
console.log(
  `  steady state    median of ${runs} runs: ${median(measured.map((r) => r.reqPerSec)).toFixed(0)} req/s, p50 ${ms(median(measured.map((r) => r.p50Ms)))}, p99 ${ms(median(measured.map((r) => r.p99Ms)))}; worst p99 ${ms(Math.max(...measured.map((r) => r.p99Ms)))}; ${errors} errors in ${total} requests`,
);
console.log(
  `  in-server time  ${inServer('0.001')} of requests under 1 ms, ${inServer('0.005')} under 5 ms, ${inServer('0.025')} under 25 ms (app histogram, measured runs)`,
);
console.log(
  `  server CPU      ${cpuUsed.toFixed(1)} s over the measured runs: ${((cpuUsed / Math.max(total, 1)) * 1e6).toFixed(0)} µs per request (all threads), i.e. ~${(total / Math.max(cpuUsed, 1e-9)).toFixed(0)} req/s per fully available core`,
);
console.log(
  `  event loop lag  p99 ${(metricsAfter.gauge('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)} ms, max ${(metricsAfter.gauge('nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1)} ms (whole process life)`,
);
console.log(`  server RSS      ${rssBefore.toFixed(0)} MB before, ${rssPeak.toFixed(0)} MB peak, ${rssAfter.toFixed(0)} MB after`);
console.log(`  access log      ${logLines} JSON lines written; server exit code after SIGTERM: ${exitCode}`);
if (uncachedMs.length > 0)
  console.log(
    `  uncached        ${uncachedMs.length} new node-days one at a time: median ${ms(uncachedMs[uncachedMs.length >> 1]!)}, max ${ms(uncachedMs[uncachedMs.length - 1]!)} (features from the node's rows in memory + predict; its rows were read by its first request; the server's warm-up asked for other days of the node, not these)`,
  );
console.log(
  `  reference       bare node:http server, same answer, same load and warm-up: ${ref.reqPerSec.toFixed(0)} req/s, p50 ${ms(ref.p50Ms)}, p99 ${ms(ref.p99Ms)}, ${refCpuPerRequestUs.toFixed(0)} µs CPU per request`,
);
console.log(`  goal            >= 5000 req/s, p99 < 20 ms, 0 errors: met in ${measured.filter(meets).length} of ${runs} runs`);
if (process.env['BENCH_KEEP_LOG']) writeFileSync(process.env['BENCH_KEEP_LOG'], readFileSync(logPath));
rmSync(work, { recursive: true, force: true });

interface LoadResult {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly total: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  /** wrk's own report. */
  readonly text: string;
}

/** Runs wrk against `target` (asynchronously, so the RSS sampler keeps running) and parses its report. */
async function loadWith(target: string, length: string): Promise<LoadResult> {
  const child = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${length}`, '--latency', '-s', script, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${text}`);
  const toMs = (value: string | undefined): number => {
    const m = /^([\d.]+)(us|ms|s)$/.exec(value ?? '');
    if (!m) throw new Error(`cannot read a latency of "${value}" in wrk's report:\n${text}`);
    return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3 }[m[2] as 'us' | 'ms' | 's'];
  };
  const percentile = (p: string) => [...text.matchAll(/^\s+(\d+)%\s+([\d.]+\w+)/gm)].find((m) => m[1] === p)?.[2];
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50Ms: toMs(percentile('50')),
    p99Ms: toMs(percentile('99')),
    maxMs: toMs(/^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(text)?.[1]),
    total: Number(/(\d+) requests in/.exec(text)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    text,
  };
}

/** The server's own view from /metrics: its /predict latency histogram and event-loop gauges. */
async function serverMetrics(): Promise<{ bucket(le: string): number; gauge(name: string): number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map(
    [...text.matchAll(/^http_request_duration_seconds_bucket\{le="([^"]+)",method="POST",route="\/predict"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
  return {
    bucket: (le) => buckets.get(le) ?? 0,
    gauge: (name) => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1]),
  };
}

/** User + system CPU seconds of a process (all its threads), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

function rssMb(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

async function waitFor<T>(get: () => T | undefined | Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = await get();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}; server log:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
}

/** A port nobody listens on right now (the server is told to use it; `--port 0` would need its log to learn the port). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
