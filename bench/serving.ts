// Load test of the inference server: POST /predict for one node-day, from a separate
// process (wrk, C, one thread so the server keeps most of the 2 cores), 64 connections for
// 20 s, against the server started as `materialize serve` in its own process with its
// normal JSON access log (written to a file). Prints req/s, p50, p99, errors and the
// server's RSS. Asserts nothing.
//
//   OMP_WAIT_POLICY=passive npx tsx bench/serving.ts
//   env: BENCH_DURATION (20s) BENCH_CONNECTIONS (64) BENCH_THREADS (1)
//        BENCH_DATA_DIR + BENCH_NODE + BENCH_DATE + BENCH_MARKET to load an existing store
//        (default: a temp store filled by the test mini PJM graph: COMED, 2016-12-20, da)
// Needs wrk (Debian: apt-get install -y wrk). The cores may be shared with other work.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Instance, materialize } from '../runtime/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const duration = process.env['BENCH_DURATION'] ?? '20s';
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 64);
const threads = Number(process.env['BENCH_THREADS'] ?? 1);
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
  const instance = Instance.open(defs, { dataDir });
  const started = Date.now();
  const result = await materialize(instance, { trigger: 'test' });
  instance.close();
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
const server = spawn(process.execPath, [join(root, 'bin/materialize.js'), 'serve', '--port', '0', '--host', '127.0.0.1'], {
  cwd: root,
  env: { ...process.env, DATA_DIR: dataDir, ...(definitions ? { ASSET_DEFINITIONS: definitions } : {}), LOG_LEVEL: 'info', OMP_WAIT_POLICY: 'passive' },
  stdio: ['ignore', logFd, logFd],
});
closeSync(logFd);
const url = await waitFor(() => /"url":"(http:\/\/[^"]+)"/.exec(readFileSync(logPath, 'utf8'))?.[1], 30_000, 'the server to listen');
const first = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
const answer = await first.text();
if (first.status !== 200) throw new Error(`warm-up /predict answered ${first.status}: ${answer}`);
const rssBefore = rssMb(server.pid!);

const script = join(work, 'predict.lua');
writeFileSync(script, `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ${JSON.stringify(body)}\n`);
let rssPeak = rssBefore;
const cpuBefore = cpuSeconds(server.pid!);
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMb(server.pid!))), 500);
console.log(`load: wrk -t${threads} -c${connections} -d${duration} POST /predict ${body}`);
const wrk = spawnSync('wrk', [`-t${threads}`, `-c${connections}`, `-d${duration}`, '--latency', '-s', script, `${url}/predict`], { encoding: 'utf8' });
clearInterval(sampler);
const out = wrk.stdout;
const parse = (text: string) => ({
  reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
  p: (q: string): string => [...text.matchAll(/^\s+(\d+)%\s+([\d.]+\w+)/gm)].find((m) => m[1] === q)?.[2] ?? '?',
});
const rssAfter = rssMb(server.pid!);
const cpuUsed = cpuSeconds(server.pid!) - cpuBefore;
// The server's own view: its latency histogram (time inside the app) and event-loop lag.
const metricsText = await (await fetch(`${url}/metrics`)).text();
const buckets = [...metricsText.matchAll(/^http_request_duration_seconds_bucket\{le="([^"]+)",method="POST",route="\/predict"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])] as const);
const served = buckets.find(([le]) => le === '+Inf')?.[1] ?? 0;
const within = (le: string): string => `${((100 * (buckets.find(([b]) => b === le)?.[1] ?? 0)) / Math.max(served, 1)).toFixed(2)}%`;
const gauge = (name: string): number => Number(new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(metricsText)?.[1]);

const reqPerSec = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
const latency = (p: string): string => [...out.matchAll(/^\s+(\d+)%\s+([\d.]+\w+)/gm)].find((m) => m[1] === p)?.[2] ?? '?';
const total = Number(/(\d+) requests in/.exec(out)?.[1]);
const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;

// The uncached path: node-days never asked before, each a DuckDB feature query (sequential).
const coldMs: number[] = [];
if (!process.env['BENCH_DATA_DIR']) {
  for (let d = 10; d < 30; d++) {
    const started = performance.now();
    const r = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...JSON.parse(body), date: `2016-11-${d}` }) });
    await r.text();
    if (r.status === 200) coldMs.push(performance.now() - started);
  }
  coldMs.sort((a, b) => a - b);
}

server.kill('SIGTERM');
const exitCode = await new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
// The floor this machine sets at this moment: a bare node:http server sending the same
// answer, loaded the same way. Shared cores make tail latency vary from minute to minute.
const reference = spawn(process.execPath, ['-e', `const b = require('fs').readFileSync(${JSON.stringify(join(work, 'answer.json'))});
require('http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length }); s.end(b); }); })
  .listen(0, '127.0.0.1', function () { console.log(this.address().port); });`], { stdio: ['ignore', 'pipe', 'inherit'] });
writeFileSync(join(work, 'answer.json'), answer);
const refPort = await new Promise<string>((resolve) => reference.stdout!.once('data', (d) => resolve(String(d).trim())));
const refOut = spawnSync('wrk', [`-t${threads}`, `-c${connections}`, `-d${duration}`, '--latency', '-s', script, `http://127.0.0.1:${refPort}/`], { encoding: 'utf8' }).stdout;
reference.kill();
const ref = parse(refOut);

const logLines = readFileSync(logPath, 'utf8').split('\n').filter((l) => l.includes('"msg":"request"')).length;

console.log(out.trim());
console.log('');
console.log('serving bench (POST /predict, one node-day, cached features):');
console.log(`  requests        ${total} in ${duration}, ${connections} connections`);
console.log(`  throughput      ${reqPerSec.toFixed(0)} req/s`);
console.log(`  latency         p50 ${latency('50')}, p99 ${latency('99')}`);
console.log(`  errors          ${non2xx} non-2xx, ${socketErrors} socket errors`);
console.log(`  in-server time  ${within('0.001')} of requests under 1 ms, ${within('0.005')} under 5 ms, ${within('0.025')} under 25 ms (app histogram)`);
console.log(`  server CPU      ${cpuUsed.toFixed(1)} s over the run: ${((cpuUsed / Math.max(total, 1)) * 1e6).toFixed(0)} µs per request (all threads), i.e. ~${(total / Math.max(cpuUsed, 1e-9)).toFixed(0)} req/s per fully available core`);
console.log(`  event loop lag  p99 ${(gauge('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)} ms, max ${(gauge('nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1)} ms`);
console.log(`  server RSS      ${rssBefore.toFixed(0)} MB before, ${rssPeak.toFixed(0)} MB peak, ${rssAfter.toFixed(0)} MB after`);
console.log(`  access log      ${logLines} JSON lines written; server exit code after SIGTERM: ${exitCode}`);
if (coldMs.length > 0) console.log(`  uncached       ${coldMs.length} new node-days one at a time: median ${coldMs[coldMs.length >> 1]!.toFixed(1)} ms, max ${coldMs[coldMs.length - 1]!.toFixed(1)} ms (DuckDB feature query + predict)`);
console.log(`  reference       bare node:http server, same answer, same load: ${ref.reqPerSec.toFixed(0)} req/s, p50 ${ref.p('50')}, p99 ${ref.p('99')}`);
console.log(`  goal            >= 5000 req/s, p99 < 20 ms, 0 errors`);
rmSync(work, { recursive: true, force: true });

/** User + system CPU seconds of a process (all its threads), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
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

async function waitFor<T>(get: () => T | undefined, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const v = get();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}; server log:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
}
