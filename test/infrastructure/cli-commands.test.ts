// The commands the CronJob and the Deployment run are real commands of this project: the
// test takes their args from the rendered manifests, the configuration from their ConfigMap,
// and runs them as the image does (`node bin/materialize.js ARGS`) against a temporary
// DATA_DIR, on a 30-day range (PJM_START/PJM_END) to stay fast. Then the server started
// with the Deployment's args must become live and ready, pass the image HEALTHCHECK, and
// exit 0 on SIGTERM within its drain time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDockerfile } from '../../infrastructure/checks/dockerfile.ts';
import { buildOverlay, findObject } from '../../infrastructure/checks/kustomize.ts';
import { serverDrainMs } from '../../infrastructure/checks/serving-config.ts';
import { PJM_SCHEDULES } from '../../assets/pjm/schedules.ts';
import { dueTimesBetween, parseCron } from '../../runtime/automation/cron.ts';

const root = new URL('../..', import.meta.url).pathname;
const objects = buildOverlay(join(root, 'infrastructure/k8s/overlays/local'));
const cronArgs = (findObject(objects, 'CronJob', 'pjm-materialize') as any).spec.jobTemplate.spec.template.spec.containers[0].args as string[];
const serveArgs = (findObject(objects, 'Deployment', 'pjm-serving') as any).spec.template.spec.containers[0].args as string[];
const config = (findObject(objects, 'ConfigMap', 'pjm-config') as any).data as Record<string, string>;
const final = readDockerfile(readFileSync(join(root, 'infrastructure/docker/Dockerfile'), 'utf8')).stages.at(-1)!;

const dataDir = mkdtempSync(join(tmpdir(), 'pjm-infra-'));
// The ConfigMap's values as the pods get them, with the volume replaced by a temporary
// directory and the source range cut to five months of the epftoolbox data (2013-2018):
// enough history for the model's validation split and a held-out backtest period.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...config,
  DATA_DIR: dataDir,
  PJM_START: '2018-07-01',
  PJM_END: '2018-11-30',
  OMP_WAIT_POLICY: 'passive',
  FORCE_COLOR: '0',
};

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function run(args: readonly string[], timeoutMs: number, extraEnv: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/materialize.js', ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

const tail = (text: string) => text.trim().split('\n').slice(-25).join('\n');
const describe = (args: readonly string[]) => `\`node bin/materialize.js ${args.join(' ')}\``;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForStatus(url: string, status: number, withinMs: number, child: ChildProcess): Promise<number | string> {
  const deadline = Date.now() + withinMs;
  let last: number | string = 'no answer';
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      last = (await fetch(url, { signal: AbortSignal.timeout(2000) })).status;
      if (last === status) return last;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

test('the image runs the materialize CLI, the commands below', () => {
  assert.equal(final.entrypoint?.slice(-2), ['node', 'bin/materialize.js']);
  assert.ok(existsSync(join(root, 'runtime/cli/main.ts')), 'runtime/cli/main.ts (the CLI that bin/materialize.js loads) does not exist yet');
});

test("the CronJob's command materializes into an empty DATA_DIR, and `status` reads the result", async () => {
  // The CronJob's pod starts when the definitions' schedule is due, and its `tick` runs what is
  // due then. Tick as of the schedule's latest due time, as that pod would.
  const [schedule] = PJM_SCHEDULES;
  const now = new Date();
  const due = dueTimesBetween(parseCron(schedule!.name, schedule!.cron, schedule!.timezone ?? 'UTC'), new Date(now.getTime() - 24 * 3_600_000), now, 100).at(
    -1,
  )!;
  assert.equal(cronArgs, ['tick'], "this test runs the CronJob's tick at the due time: change it with the CronJob");
  const result = await run([...cronArgs, '--at', new Date(due.getTime() + 5_000).toISOString()], 240_000);
  assert.ok(
    result.code === 0,
    `The CronJob's command ${describe(cronArgs)} failed (exit ${result.code}${result.signal ? `, ${result.signal}` : ''}) ` +
      `with DATA_DIR=${dataDir} PJM_START=${env.PJM_START} PJM_END=${env.PJM_END}. The CronJob would fail the same way. Output:\n${tail(result.output)}`,
  );
  const status = await run(['status', '--json'], 60_000);
  assert.ok(status.code === 0, `${describe(['status', '--json'])} failed (exit ${status.code}) after the materialization:\n${tail(status.output)}`);
});

test("the Deployment's command serves: live on /health, ready on /ready after the materialization, healthy by the image HEALTHCHECK, exits 0 on SIGTERM", async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/materialize.js', ...serveArgs], {
    cwd: root,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  try {
    const base = `http://127.0.0.1:${port}`;
    const health = await waitForStatus(`${base}/health`, 200, 30_000, child);
    assert.ok(
      health === 200,
      `The Deployment's command ${describe(serveArgs)} did not answer GET /health with 200 within 30 s (last: ${health}). Output:\n${tail(output)}`,
    );
    const ready = await waitForStatus(`${base}/ready`, 200, 60_000, child);
    assert.ok(
      ready === 200,
      `GET /ready did not become 200 within 60 s after a materialization into the same DATA_DIR (last: ${ready}): the pods would never receive traffic. Output:\n${tail(output)}`,
    );

    const [command, ...args] = final.healthcheck ?? [];
    assert.ok(command, 'the Dockerfile has no exec-form HEALTHCHECK');
    const check = spawn(command === 'node' ? process.execPath : command!, args, { env: { ...env, PORT: String(port) }, stdio: 'ignore' });
    const checkCode = await new Promise<number | null>((resolve) => check.on('close', resolve));
    assert.is(checkCode, 0, 'the Dockerfile HEALTHCHECK command reported the running server unhealthy');

    child.kill('SIGTERM');
    const drainMs = await serverDrainMs(config);
    const stopped = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), drainMs + 5_000))]);
    assert.ok(stopped, `the server did not exit within its drain time + 5 s (${drainMs + 5_000} ms) of SIGTERM`);
    assert.equal(stopped, { code: 0, signal: null }, `the server should exit 0 after draining. Output:\n${tail(output)}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test.after(() => rmSync(dataDir, { recursive: true, force: true }));

test.run();
