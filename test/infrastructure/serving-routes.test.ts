// The probes and the image healthcheck point at routes the server really defines: the
// readiness probe at /ready, the liveness probe and HEALTHCHECK at /health.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildOverlay, findObject } from '../../infrastructure/checks/kustomize.ts';

const root = new URL('../..', import.meta.url).pathname;
const servingDir = join(root, 'serving');

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** The files of serving/ that name `path` as a quoted string, as a router registration does. */
function filesDefining(path: string): string[] {
  const quoted = new RegExp(`['"\`]${path.replace(/\//g, '\\/')}['"\`]`);
  return sourceFiles(servingDir).filter((file) => quoted.test(readFileSync(file, 'utf8')));
}

const deployment = findObject(buildOverlay(join(root, 'infrastructure/k8s/overlays/local')), 'Deployment', 'pjm-serving') as unknown as {
  spec: { template: { spec: { containers: { readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } } }[] } } };
};
const container = deployment.spec.template.spec.containers[0]!;

for (const [probe, path] of [
  ['readinessProbe', container.readinessProbe.httpGet.path],
  ['livenessProbe (and the Dockerfile HEALTHCHECK)', container.livenessProbe.httpGet.path],
] as const) {
  test(`the ${probe} path ${path} is a route of the server`, () => {
    const files = sourceFiles(servingDir);
    assert.ok(files.length > 0, `serving/ has no TypeScript sources yet, so the route ${path} that the Deployment's ${probe} calls does not exist`);
    const defining = filesDefining(path);
    assert.ok(
      defining.length > 0,
      `no file under serving/ defines the route '${path}' (searched ${files.length} files: ${files.map((f) => relative(root, f)).join(', ')}); ` +
        `the Deployment's ${probe} calls it. Add the route or change infrastructure/k8s/base/deployment.yaml.`,
    );
  });
}

test.run();
