// Store faults, on a real materialized store of the PJM pipeline (a reduced range), with real
// processes (figures returned and printed, nothing asserted):
//  (a) SIGKILL of a `materialize --force` child at N seeded random moments of its run, each
//      followed by `PRAGMA integrity_check`, `status`, a rerun and `prune`: how many recovered
//      (integrity ok, status answers, the rerun succeeds and leaves everything fresh), orphan
//      files (published, never recorded) and scratch directories still there after prune;
//  (b) a full disk (DATA_DIR on a 5 MB tmpfs; needs root or CAP_SYS_ADMIN to mount it): the
//      exit code, lines printed, whether anything was uncaught, the message, the run's record;
//  (c) a truncated current file: verify finds it, status says CORRUPT, a rerun repairs it.
// The lead composes `storeFaults` into bench/chaos.ts.
// Run: npx tsx bench/chaos/store-faults.ts [--kills 20] [--seed 16]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openLineageStore, sqliteStorePath } from '../../runtime/store/open-store.ts';

const CLI = new URL('../../bin/materialize.js', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;

export interface StoreFaultOptions {
  /** SIGKILLs (the long version: 20). */
  readonly kills?: number;
  readonly seed?: number;
  /** EPT delivery days of the reduced pipeline. */
  readonly start?: string;
  readonly end?: string;
  readonly log?: (line: string) => void;
}

export interface KillFigures {
  readonly kills: number;
  /** Integrity ok, status answered, the rerun succeeded and everything is fresh after it. */
  readonly recovered: number;
  /** Published files no materialization points at, after the reruns (summed over kills). */
  readonly orphanFiles: number;
  /** Scratch directories the kills left (summed) and those still there after prune. */
  readonly scratchLeftByKills: number;
  readonly staleScratchAfterPrune: number;
  readonly failures: readonly string[];
}

export interface DiskFullFigures {
  readonly ran: boolean;
  /** Why it did not run (no permission to mount a tmpfs). */
  readonly skippedBecause?: string;
  readonly exitCode?: number | null;
  readonly lines?: number;
  readonly uncaught?: boolean;
  readonly message?: string;
  /** The full-disk run's record once space is back and a rerun has closed it if needed. */
  readonly recordedAs?: string;
  readonly rerunSucceeded?: boolean;
}

export interface CorruptFileFigures {
  readonly verifyFound: boolean;
  readonly statusSaysCorrupt: boolean;
  readonly rerunRepaired: boolean;
}

export interface StoreFaultFigures {
  readonly kill: KillFigures;
  readonly diskFull: DiskFullFigures;
  readonly corruptFile: CorruptFileFigures;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, killAfterMs?: number): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** mulberry32: a small seeded generator, so a figure can be reproduced kill for kill. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(join(d, e.name), rel ? `${rel}/${e.name}` : e.name);
      else if (/^[0-9a-f]{16}\.(parquet|json|bin)$/.test(e.name)) out.push(rel ? `${rel}/${e.name}` : e.name);
    }
  };
  walk(dir, '');
  return out;
}

async function orphanCount(dataDir: string): Promise<number> {
  const store = await openLineageStore(sqliteStorePath(dataDir));
  try {
    let orphans = 0;
    for (const f of listFiles(join(dataDir, 'assets'))) if (!(await store.isRecorded(f))) orphans++;
    return orphans;
  } finally {
    await store.close();
  }
}

const scratchCount = (dataDir: string): number => {
  try {
    return readdirSync(join(dataDir, 'assets', '.tmp')).length;
  } catch {
    return 0;
  }
};

function allFresh(stdout: string): boolean {
  const status = JSON.parse(stdout) as { status: string }[];
  return status.every((s) => s.status === 'FRESH');
}

export async function storeFaults(options: StoreFaultOptions = {}): Promise<StoreFaultFigures> {
  const log = options.log ?? (() => {});
  const range = { PJM_START: options.start ?? '2016-09-15', PJM_END: options.end ?? '2017-01-02' };
  const dataDir = mkdtempSync(join(tmpdir(), 'chaos-store-'));
  const env = { ...range, DATA_DIR: dataDir };
  try {
    const startedAt = Date.now();
    const first = await cli([], env);
    if (first.code !== 0) throw new Error(`materializing the reduced pipeline failed: ${first.stderr}`);
    const runMs = Date.now() - startedAt;
    log(`baseline store materialized in ${runMs} ms`);

    // (a) SIGKILL at seeded random moments of a forced run of everything.
    const random = seeded(options.seed ?? 16);
    const kills = options.kills ?? 20;
    let recovered = 0;
    let orphanFiles = 0;
    let scratchLeftByKills = 0;
    let staleScratchAfterPrune = 0;
    const failures: string[] = [];
    for (let k = 0; k < kills; k++) {
      const at = Math.round(random() * runMs);
      const killed = await cli(['--force', '--json'], env, at);
      const where = `kill ${k + 1} at ${at} ms`;
      const store = await openLineageStore(sqliteStorePath(dataDir));
      const problems = await store.checkConsistency();
      await store.close();
      const integrity = problems.length === 0 ? 'ok' : problems.join('; ');
      scratchLeftByKills += scratchCount(dataDir);
      const status = await cli(['status', '--json'], env);
      const rerun = await cli(['--json'], env);
      const after = await cli(['status', '--json'], env);
      const ok = integrity === 'ok' && status.code === 0 && rerun.code === 0 && after.code === 0 && allFresh(after.stdout);
      if (ok) recovered++;
      else
        failures.push(
          `${where}: integrity ${String(integrity)}, status exit ${status.code}, rerun exit ${rerun.code}${rerun.code !== 0 ? ` (${rerun.stderr.trim().split('\n').pop()})` : ''}`,
        );
      orphanFiles += await orphanCount(dataDir);
      await cli(['prune', '--older-than', '30d'], env);
      staleScratchAfterPrune += scratchCount(dataDir);
      log(`${where}: ${killed.signal === 'SIGKILL' ? 'killed' : `finished first (exit ${killed.code})`}, ${ok ? 'recovered' : 'NOT recovered'}`);
    }

    // (c) A truncated current file.
    const folder = join(dataDir, 'assets', 'pjm', 'validated', 'prices', '2016-12-20');
    truncateSync(join(folder, readdirSync(folder).find((f) => f.endsWith('.parquet'))!), 200);
    const verify = await cli(['verify', '--json'], env);
    const verifyFound = verify.code === 1 && (JSON.parse(verify.stdout) as { bad: { partition: string }[] }).bad.some((b) => b.partition === '2016-12-20');
    const statusSaysCorrupt = /pjm\/validated\/prices\s+CORRUPT/.test((await cli(['status'], env)).stdout);
    const repair = await cli([], env);
    const rerunRepaired = repair.code === 0 && (await cli(['verify'], env)).code === 0;
    log(`corrupt file: verify found it ${verifyFound}, status CORRUPT ${statusSaysCorrupt}, rerun repaired ${rerunRepaired}`);

    const diskFull = await diskFullCase(range, log);
    return {
      kill: { kills, recovered, orphanFiles, scratchLeftByKills, staleScratchAfterPrune, failures },
      diskFull,
      corruptFile: { verifyFound, statusSaysCorrupt, rerunRepaired },
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function diskFullCase(range: Record<string, string>, log: (line: string) => void): Promise<DiskFullFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { ran: false, skippedBecause: `mounting a 5 MB tmpfs needs root or CAP_SYS_ADMIN: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    const env = { ...range, DATA_DIR: dir };
    const full = await cli([], env);
    const output = full.stdout + full.stderr;
    const message = /The disk is full[^\n]*/.exec(full.stderr)?.[0];
    execFileSync('mount', ['-o', 'remount,size=512m', dir]);
    const rerun = await cli([], env);
    const runs = JSON.parse((await cli(['runs', '--json'], env)).stdout) as { status: string }[];
    const figures: DiskFullFigures = {
      ran: true,
      exitCode: full.code,
      lines: output.trim().split('\n').length,
      uncaught: /Uncaught|SqliteError:|\n\s+at /.test(output) || full.signal !== null,
      ...(message ? { message } : {}),
      recordedAs: runs[runs.length - 1]?.status ?? 'unrecorded',
      rerunSucceeded: rerun.code === 0,
    };
    log(`full disk: exit ${figures.exitCode}, ${figures.lines} lines, uncaught ${figures.uncaught}, recorded ${figures.recordedAs}`);
    return figures;
  } finally {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const figures = await storeFaults({ kills: arg('kills', 20), seed: arg('seed', 16), log: (l) => console.log(`  ${l}`) });
  const k = figures.kill;
  console.log(
    `SIGKILL at ${k.kills} random moments: ${k.recovered}/${k.kills} recovered (goal ${k.kills}/${k.kills}), ${k.orphanFiles} orphan files (goal 0), ${k.scratchLeftByKills} scratch dirs left by the kills, ${k.staleScratchAfterPrune} after prune (goal 0)`,
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
}
