// The long hardening run (figures printed, nothing asserted; test/serving/fuzz.test.ts and the
// store tests are the bounded versions CI runs):
//  1. HTTP fuzz: `materialize serve` as a real child process over a materialized PJM store (a
//     reduced range), fuzzed for --seconds with requests generated from every route's schema
//     (bench/chaos/http-fuzz.ts): requests sent, unexpected 5xx (goal 0), p99 during the fuzz,
//     the server's RSS before and after, and whether it still answers /health;
//  2. store faults (bench/chaos/store-faults.ts): SIGKILL at --kills random moments of a run,
//     each followed by an integrity check, status and a rerun (goal: all recover, 0 orphan
//     files, 0 stale scratch directories); the full disk; the corrupted file.
// Run: OMP_WAIT_POLICY=passive npx tsx bench/chaos.ts [--seconds 120] [--kills 20] [--seed 16]
// Needs root (or CAP_SYS_ADMIN) for the full-disk case's tmpfs. Run it on an otherwise idle machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHttpFuzz } from './chaos/http-fuzz.ts';
import { storeFaults } from './chaos/store-faults.ts';

const CLI = new URL('../bin/materialize.js', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number, got ${process.argv[i + 1]}`);
  return v;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line ? Number(line.replace(/\D+/g, '')) / 1024 : NaN;
}

function run(args: string[], env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('close', (code) => resolve(code));
  });
}

async function waitReady(url: string, child: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode} before it was ready`);
    const ok = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server at ${url} was not ready after ${ms} ms`);
}

async function httpFuzz(seconds: number, seed: number): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chaos-http-'));
  const env = { PJM_START: '2016-09-15', PJM_END: '2017-01-02', DATA_DIR: dataDir };
  let server: ChildProcess | undefined;
  try {
    const code = await run([], env);
    if (code !== 0) throw new Error(`materializing the store for the fuzz failed with exit code ${code}`);
    const port = await freePort();
    server = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, server, 60_000);
    const before = rssMiB(server.pid!);
    const r = await runHttpFuzz({ baseUrl: url, seconds, seed, concurrency: 8 });
    const after = rssMiB(server.pid!);
    const health = await fetch(`${url}/health`).then(
      (res) => res.status,
      () => 'no answer',
    );
    console.log(
      `HTTP fuzz, ${seconds} s, seed ${seed}: ${r.requests} requests, ${r.status5xx} unexpected 5xx (goal 0), ${r.problemCount} rule breaks, ` +
        `p99 ${r.p99Ms} ms, server RSS ${before.toFixed(0)} -> ${after.toFixed(0)} MiB, /health afterwards ${health}`,
    );
    console.log(`  by status: ${JSON.stringify(r.byStatus)}`);
    for (const p of r.problems.slice(0, 10)) console.log(`  ${p.method} ${p.path} -> ${p.status} (${p.why}): ${p.answer.slice(0, 200)}`);
  } finally {
    server?.kill('SIGTERM');
    if (server) await new Promise((r) => server!.once('close', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const seed = arg('seed', 16);
console.log(`Chaos bench — node ${process.version}, ${new Date().toISOString()}`);
await httpFuzz(arg('seconds', 120), seed);
const figures = await storeFaults({ kills: arg('kills', 20), seed, log: (l) => console.log(`  ${l}`) });
const k = figures.kill;
console.log(
  `SIGKILL at ${k.kills} random moments: ${k.recovered}/${k.kills} recovered (goal ${k.kills}/${k.kills}), ${k.orphanFiles} orphan files (goal 0), ` +
    `${k.scratchLeftByKills} scratch dirs left by the kills, ${k.staleScratchAfterPrune} after prune (goal 0)`,
);
for (const f of k.failures) console.log(`  ${f}`);
const d = figures.diskFull;
console.log(
  d.ran
    ? `full disk: exit ${d.exitCode}, ${d.lines} lines of output, uncaught ${d.uncaught}, run recorded as ${d.recordedAs}, rerun after freeing space ${d.rerunSucceeded ? 'succeeded' : 'FAILED'}\n  ${d.message ?? '(no disk-full message)'}`
    : `full disk: not run (${d.skippedBecause})`,
);
const c = figures.corruptFile;
console.log(`corrupted file: verify found it ${c.verifyFound}, status says CORRUPT ${c.statusSaysCorrupt}, a rerun repaired it ${c.rerunRepaired}`);
