// What the manifests assume about the server holds for the server as written: the probes and
// the image healthcheck point at routes it defines (readiness /ready, liveness and
// HEALTHCHECK /health), and its drain after SIGTERM, with the ConfigMap's environment,
// fits in the pods' termination grace period.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildOverlay, findObject } from '../../infrastructure/checks/kustomize.ts';
import { serverDrainMs } from '../../infrastructure/checks/serving-config.ts';

const root = new URL('../..', import.meta.url).pathname;
const servingDir = join(root, 'serving');

/** Every non-test .ts file under `dir` (a missing serving/ throws, failing the tests loudly). */
function sourceFiles(dir: string): string[] {
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

const objects = buildOverlay(join(root, 'infrastructure/k8s/overlays/local'));
const deployment = findObject(objects, 'Deployment', 'pjm-serving') as unknown as {
  spec: {
    template: {
      spec: {
        terminationGracePeriodSeconds?: number;
        containers: {
          readinessProbe: { httpGet: { path: string } };
          livenessProbe: { httpGet: { path: string } };
          lifecycle?: { preStop?: { exec?: { command: string[] } } };
        }[];
      };
    };
  };
};
const configMap = (findObject(objects, 'ConfigMap', 'pjm-config') as unknown as { data: Record<string, string> }).data;
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

test("the server's drain after SIGTERM, with the ConfigMap's environment, ends before Kubernetes kills the pod", async () => {
  const drainMs = await serverDrainMs(configMap);
  const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
  const pauseMs = preStop[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
  const graceMs = (deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  assert.ok(
    graceMs > pauseMs + drainMs,
    `serving/config.ts drains for ${drainMs} ms with the ConfigMap's values; with the ${pauseMs} ms preStop pause that exceeds ` +
      `terminationGracePeriodSeconds (${graceMs} ms). Set the server's drain variable in the ConfigMap or raise the grace period.`,
  );
  const configured = Number(configMap.SERVING_DRAIN_TIMEOUT_MS);
  assert.is(drainMs, configured, `the ConfigMap sets SERVING_DRAIN_TIMEOUT_MS=${configured} but the server drains ${drainMs} ms: it reads another variable`);
});

test.run();
