// The container image (infrastructure/docker/Dockerfile), checked without a Docker engine:
// its base image, stages, user, healthcheck, that every path it copies exists in the build
// context, and that its entrypoint is the CLI the other infrastructure tests run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readDockerignore } from '../../infrastructure/checks/dockerignore.ts';
import { readDockerfile } from '../../infrastructure/checks/dockerfile.ts';
import type { DockerfileStage } from '../../infrastructure/checks/dockerfile.ts';
import { buildOverlay, findObject } from '../../infrastructure/checks/kustomize.ts';

const root = new URL('../..', import.meta.url).pathname;
const dockerfilePath = join(root, 'infrastructure/docker/Dockerfile');
const facts = readDockerfile(readFileSync(dockerfilePath, 'utf8'));
const final = facts.stages.at(-1) as DockerfileStage;
const isIgnored = readDockerignore(join(root, '.dockerignore'));

test('every stage is built on Node 20 slim (Debian bookworm)', () => {
  assert.ok(facts.stages.length > 0, 'the Dockerfile has no FROM');
  for (const stage of facts.stages) {
    assert.match(stage.image, /^node:20(\.\d+){0,2}-(bookworm-)?slim(@sha256:[0-9a-f]{64})?$/, `stage ${stage.name} is built on ${stage.image}`);
  }
});

test('multi-stage: dependencies are installed with `npm ci --omit=dev` in a build stage, and only node_modules is carried over', () => {
  assert.ok(facts.stages.length >= 2, `expected a build stage and a runtime stage, found ${facts.stages.length} stage(s)`);
  const build = facts.stages.find((s) => s.runs.some((r) => /\bnpm ci\b.*--omit=dev\b/.test(r)));
  assert.ok(build, 'no stage runs `npm ci --omit=dev`');
  assert.not.equal(build, final, '`npm ci` runs in the final stage: compilers would end up in the image');
  assert.ok(
    build!.runs.some((r) => /apt-get install.*\bpython3\b.*\bmake\b.*\bg\+\+/.test(r)),
    'the build stage must install python3, make and g++ (node-gyp build of better-sqlite3)',
  );
  assert.ok(!final.runs.some((r) => /\bg\+\+|\bbuild-essential\b/.test(r)), 'the final stage installs a compiler');
  const carried = final.copies.filter((c) => c.from !== null);
  assert.equal(
    carried.map((c) => [c.from, c.sources]),
    [[build!.name, ['/app/node_modules']]],
  );
});

test('package.json approves the install scripts of the native modules the build compiles (npm 11 allowScripts)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
  assert.is(pkg.allowScripts?.['better-sqlite3'], true);
  const build = facts.stages.find((s) => s.runs.some((r) => /\bnpm ci\b/.test(r)))!;
  assert.ok(
    build.runs.some((r) => /npm install -g npm@11\./.test(r)),
    'the build stage must use npm 11, which reads allowScripts (Node 20 bundles npm 10)',
  );
});

test('the runtime stage has the OpenMP library XGBoost loads and runs as a non-root user', () => {
  assert.ok(
    final.runs.some((r) => /apt-get install.*\blibgomp1\b/.test(r)),
    'libgomp1 (needed by xgboost_node lib/libxgboost.so) is not installed in the final stage',
  );
  assert.ok(
    final.runs.some((r) => /apt-get install.*\blibxgboost0\b/.test(r)),
    "libxgboost0 (Debian's XGBoost, which lib/xgboost prefers) is not installed in the final stage",
  );
  assert.ok(final.user, 'the final stage has no USER: the container would run as root');
  assert.not.ok(['root', '0', '0:0'].includes(final.user!), `the final stage runs as ${final.user}`);
});

test('every path the Dockerfile copies from the build context exists and is not excluded by .dockerignore', () => {
  const fromContext = facts.stages.flatMap((s) =>
    s.copies.filter((c) => c.from === null).flatMap((c) => c.sources.map((source) => ({ source, line: c.line }))),
  );
  assert.ok(fromContext.length > 0, 'the Dockerfile copies nothing from the build context');
  const problems: string[] = [];
  for (const { source, line } of fromContext) {
    const path = source.replace(/^\.\//, '').replace(/\/$/, '');
    if (!existsSync(join(root, path))) problems.push(`line ${line}: ${source} does not exist in the repository`);
    else if (isIgnored(path)) problems.push(`line ${line}: ${source} is excluded by .dockerignore`);
  }
  assert.equal(problems, [], problems.join('\n'));
});

test('the image carries the data set the default source reads (PJM_SOURCE=epftoolbox)', async () => {
  const { DEFAULT_EPFTOOLBOX_DIR } = await import('../../assets/pjm/config.ts');
  const needed = relative(root, DEFAULT_EPFTOOLBOX_DIR).replace(/\/$/, '');
  const copied = final.copies.filter((c) => c.from === null).flatMap((c) => c.sources.map((s) => s.replace(/^\.\//, '').replace(/\/$/, '')));
  assert.ok(
    copied.some((source) => needed === source || needed.startsWith(`${source}/`)),
    `assets/pjm/config.ts reads the epftoolbox data from ${needed}/, but the final stage copies only ${copied.join(', ')}`,
  );
});

test('the entrypoint is the materialize CLI and the default command serves; the Kubernetes args run the same CLI', () => {
  assert.ok(final.entrypoint, 'the final stage has no exec-form ENTRYPOINT');
  const cli = final.entrypoint!.slice(final.entrypoint!.indexOf('--') + 1);
  assert.equal(cli, ['node', 'bin/materialize.js'], `entrypoint ${JSON.stringify(final.entrypoint)}`);
  assert.ok(existsSync(join(root, 'bin/materialize.js')), 'bin/materialize.js is missing');
  assert.equal(final.cmd, ['serve']);
  // The manifests give only args, so Kubernetes runs ENTRYPOINT + args: the commands that
  // test/infrastructure/cli-commands.test.ts runs as `node bin/materialize.js ARGS`.
  const objects = buildOverlay(join(root, 'infrastructure/k8s/overlays/local'));
  const deployment = findObject(objects, 'Deployment', 'pjm-serving') as any;
  const cronjob = findObject(objects, 'CronJob', 'pjm-materialize') as any;
  for (const container of [deployment.spec.template.spec.containers[0], cronjob.spec.jobTemplate.spec.template.spec.containers[0]]) {
    assert.is(container.command, undefined, `container ${container.name} overrides the image ENTRYPOINT`);
  }
  assert.equal(deployment.spec.template.spec.containers[0].args, final.cmd, 'the Deployment should run the image default, `serve`');
});

test("the healthcheck asks the server's /health on PORT", () => {
  assert.ok(final.healthcheck, 'the final stage has no exec-form HEALTHCHECK CMD');
  assert.is(final.healthcheck![0], 'node', 'the slim image has no curl or wget: the healthcheck must use node');
  assert.match(final.healthcheck!.join(' '), /process\.env\.PORT.*\/health\b/);
});

test.run();
