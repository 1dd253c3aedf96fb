// The Kubernetes manifests as each overlay renders them (`kubectl kustomize`): every object
// is valid against the Kubernetes schemas, and the CronJob, Deployment, Service, volume and
// configuration keep the promises infrastructure/README.md makes about them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOverlay, findObject } from '../../infrastructure/checks/kustomize.ts';
import type { K8sObject } from '../../infrastructure/checks/kustomize.ts';
import { schemaErrors } from '../../infrastructure/checks/k8s-schema.ts';
import { readTerraformEnv } from '../../infrastructure/k8s/terraform-env.ts';
import { PJM_SCHEDULES } from '../../assets/pjm/schedules.ts';

const root = new URL('../..', import.meta.url).pathname;
const overlays = ['local', 'eks'] as const;
const built = Object.fromEntries(overlays.map((o) => [o, buildOverlay(join(root, 'infrastructure/k8s/overlays', o))])) as Record<
  (typeof overlays)[number],
  K8sObject[]
>;

// The parts of the objects these tests read, loosely typed: the schemas are checked separately.
type Container = {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  containers: Container[];
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
  affinity?: {
    podAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { labelSelector: { matchLabels: Record<string, string> }; topologyKey: string }[] };
  };
};
type PodTemplate = { metadata: { labels: Record<string, string> }; spec: PodSpec };

const deploymentOf = (objects: K8sObject[]) =>
  findObject(objects, 'Deployment', 'pjm-serving') as unknown as K8sObject & { spec: { replicas: number; template: PodTemplate } };
const cronJobOf = (objects: K8sObject[]) =>
  findObject(objects, 'CronJob', 'pjm-materialize') as unknown as K8sObject & {
    spec: {
      schedule: string;
      timeZone?: string;
      concurrencyPolicy?: string;
      successfulJobsHistoryLimit?: number;
      failedJobsHistoryLimit?: number;
      jobTemplate: { spec: { backoffLimit?: number; activeDeadlineSeconds?: number; template: PodTemplate } };
    };
  };
const configOf = (objects: K8sObject[]) => findObject(objects, 'ConfigMap', 'pjm-config') as unknown as K8sObject & { data: Record<string, string> };
const podTemplates = (objects: K8sObject[]) => [deploymentOf(objects).spec.template, cronJobOf(objects).spec.jobTemplate.spec.template];

for (const overlay of overlays) {
  const objects = built[overlay];

  test(`${overlay}: every rendered object is valid against the Kubernetes schemas`, () => {
    assert.ok(objects.length > 0, `${overlay} rendered no objects`);
    const errors = objects.map(schemaErrors).filter((e): e is string => e !== null);
    assert.equal(errors, [], errors.join('\n'));
  });

  test(`${overlay}: the product's objects are all there, in the pjm namespace`, () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort();
    for (const expected of [
      'CronJob/pjm-materialize',
      'Deployment/pjm-serving',
      'Service/pjm-serving',
      'PersistentVolumeClaim/pjm-data',
      'ConfigMap/pjm-config',
      'ServiceAccount/pjm-lmp',
      'Namespace/pjm',
    ]) {
      assert.ok(kinds.includes(expected), `${overlay} does not render ${expected}; it renders ${kinds.join(', ')}`);
    }
    for (const o of objects.filter((o) => !['Namespace', 'StorageClass'].includes(o.kind))) {
      assert.is(o.metadata.namespace, 'pjm', `${o.kind}/${o.metadata.name} namespace`);
    }
  });

  test(`${overlay}: CronJob pjm-materialize runs \`materialize tick\` when the definitions' schedule is due, after day-ahead prices, never two at a time`, () => {
    const cron = cronJobOf(objects);
    // The pod starts when the definitions' schedule is due and the tick runs it: one CronJob
    // stands for one schedule. A second schedule needs its own CronJob (or the daemon Deployment).
    assert.is(
      PJM_SCHEDULES.length,
      1,
      `the definitions declare ${PJM_SCHEDULES.length} schedules; base/cronjob.yaml starts a tick for one: add a CronJob per schedule, or run \`materialize daemon\``,
    );
    const [schedule] = PJM_SCHEDULES;
    const fields = cron.spec.schedule.trim().split(/\s+/);
    assert.is(fields.length, 5, `schedule "${cron.spec.schedule}" is not a 5-field cron expression`);
    const [minute, hour] = fields.map(Number);
    assert.ok(cron.spec.timeZone === 'America/New_York', 'the schedule must be in PJM market time (timeZone: America/New_York)');
    // The schedule is declared once, in the definitions: the manifest must say the same.
    assert.equal(
      { schedule: cron.spec.schedule, timeZone: cron.spec.timeZone },
      { schedule: schedule!.cron, timeZone: schedule!.timezone },
      `the CronJob's schedule must be assets/pjm/schedules.ts's ${schedule!.name}; change it there and in infrastructure/k8s/base/cronjob.yaml together`,
    );
    assert.ok(hour! * 60 + minute! >= 13 * 60 + 30, `runs at ${hour}:${minute} New York time, before PJM posts day-ahead results (about 13:30)`);
    assert.is(cron.spec.concurrencyPolicy, 'Forbid');
    assert.type(cron.spec.successfulJobsHistoryLimit, 'number');
    assert.type(cron.spec.failedJobsHistoryLimit, 'number');
    const job = cron.spec.jobTemplate.spec;
    assert.type(job.backoffLimit, 'number');
    assert.ok((job.activeDeadlineSeconds ?? 0) > 0, 'activeDeadlineSeconds is missing');
    assert.is(job.template.spec.restartPolicy, 'Never');
    const container = job.template.spec.containers[0]!;
    assert.is(container.command, undefined, 'the CronJob must keep the image ENTRYPOINT (node bin/materialize.js)');
    assert.equal(container.args, ['tick']);
    // The tick fires a due time within its catch-up window (an hour): a pod started later than
    // that would skip the run, so Kubernetes must not start it later either.
    assert.ok(
      (cron.spec as { startingDeadlineSeconds?: number }).startingDeadlineSeconds! <= 3600,
      "startingDeadlineSeconds must stay within the tick's catch-up window (3600 s)",
    );
  });

  test(`${overlay}: Deployment pjm-serving runs 2 replicas of \`materialize serve\` with probes on /ready and /health, resources and a grace period above the drain`, () => {
    const deployment = deploymentOf(objects);
    assert.is(deployment.spec.replicas, 2);
    const container = deployment.spec.template.spec.containers[0]!;
    assert.equal(container.args, ['serve']);
    assert.equal(
      container.ports?.map((p) => p.containerPort),
      [8000],
    );
    assert.equal(container.readinessProbe?.httpGet, { path: '/ready', port: 8000 });
    assert.equal(container.livenessProbe?.httpGet, { path: '/health', port: 8000 });
    for (const kind of ['requests', 'limits'] as const) assert.ok(container.resources?.[kind]?.memory, `resources.${kind}.memory is missing`);
    assert.ok(container.resources?.requests?.cpu, 'resources.requests.cpu is missing');

    const drainMs = Number(configOf(objects).data.SERVING_DRAIN_TIMEOUT_MS);
    assert.ok(drainMs > 0, 'the ConfigMap must set SERVING_DRAIN_TIMEOUT_MS, the drain the grace period is sized for');
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    const pauseMs = preStop[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
    const graceMs = (deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    assert.ok(
      graceMs > pauseMs + drainMs,
      `terminationGracePeriodSeconds (${graceMs} ms) must exceed the preStop pause (${pauseMs} ms) plus the drain (${drainMs} ms), or Kubernetes kills requests mid-drain`,
    );
  });

  test(`${overlay}: Service pjm-serving is a LoadBalancer from port 80 to the serving pods' 8000`, () => {
    const service = findObject(objects, 'Service', 'pjm-serving') as unknown as {
      spec: { type: string; selector: Record<string, string>; ports: { port: number; targetPort: number }[] };
    };
    assert.is(service.spec.type, 'LoadBalancer');
    assert.equal(
      service.spec.ports.map((p) => [p.port, p.targetPort]),
      [[80, 8000]],
    );
    const labels = deploymentOf(objects).spec.template.metadata.labels;
    for (const [k, v] of Object.entries(service.spec.selector)) assert.is(labels[k], v, `the Service selects ${k}=${v}, which the serving pods do not carry`);
  });

  test(`${overlay}: pods take their configuration from the ConfigMap, PJM_API_KEY from a Secret, and mount the lineage store at DATA_DIR`, () => {
    const config = configOf(objects);
    assert.is(config.data.OMP_WAIT_POLICY, 'passive');
    const claims = objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name);
    const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
    for (const template of podTemplates(objects)) {
      const container = template.spec.containers[0]!;
      assert.equal(
        container.envFrom?.map((e) => e.configMapRef?.name),
        [config.metadata.name],
        `${container.name} envFrom`,
      );
      const key = container.env?.find((e) => e.name === 'PJM_API_KEY');
      assert.ok(key?.valueFrom?.secretKeyRef, `${container.name}: PJM_API_KEY must come from a Secret, never a literal`);
      assert.ok(
        !container.env?.some((e) => /KEY|TOKEN|SECRET/.test(e.name) && e.value !== undefined),
        `${container.name} has a secret-looking literal env var`,
      );
      const dataVolume = template.spec.volumes?.find((v) => v.persistentVolumeClaim);
      assert.ok(
        dataVolume && claims.includes(dataVolume.persistentVolumeClaim!.claimName),
        `${container.name} mounts no PersistentVolumeClaim of this overlay`,
      );
      const mount = container.volumeMounts?.find((m) => m.name === dataVolume!.name);
      assert.is(mount?.mountPath, config.data.DATA_DIR, `${container.name}: the volume must be mounted at DATA_DIR`);
      assert.ok(
        accounts.includes(template.spec.serviceAccountName ?? ''),
        `${container.name} uses ServiceAccount ${template.spec.serviceAccountName}, which this overlay does not define`,
      );
    }
  });

  test(`${overlay}: every pod that mounts the ReadWriteOnce lineage store is required onto the same node`, () => {
    const pvc = findObject(objects, 'PersistentVolumeClaim', 'pjm-data') as unknown as { spec: { accessModes: string[] } };
    assert.equal(pvc.spec.accessModes, ['ReadWriteOnce']);
    for (const template of podTemplates(objects)) {
      const terms = template.spec.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
      const term = terms.find((t) => t.topologyKey === 'kubernetes.io/hostname');
      assert.ok(term, `${template.spec.containers[0]!.name}: no required podAffinity on kubernetes.io/hostname`);
      for (const [k, v] of Object.entries(term!.labelSelector.matchLabels)) {
        assert.is(template.metadata.labels[k], v, `${template.spec.containers[0]!.name} does not carry the label ${k}=${v} its own affinity selects`);
      }
    }
  });
}

test('the commands the manifests run are the ones infrastructure/README.md documents', () => {
  const readme = readFileSync(join(root, 'infrastructure/README.md'), 'utf8');
  const workers = findObject(built.eks, 'Deployment', 'pjm-workers') as unknown as { spec: { template: PodTemplate } };
  for (const template of [...podTemplates(built.local), workers.spec.template]) {
    const command = `node bin/materialize.js ${template.spec.containers[0]!.args!.join(' ')}`;
    assert.ok(
      readme.includes(`\`${command}\``),
      `infrastructure/README.md does not document \`${command}\`, the command of ${template.spec.containers[0]!.name}`,
    );
  }
});

type Env = NonNullable<Container['env']>;
const fromSecret = (env: Env | undefined, name: string) => env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;

test('eks: Deployment pjm-workers runs `materialize worker` replicas with resources and a grace period above the drain, off the shared volume', () => {
  const workers = findObject(built.eks, 'Deployment', 'pjm-workers') as unknown as K8sObject & { spec: { replicas: number; template: PodTemplate } };
  assert.ok(workers.spec.replicas >= 2, 'at least two workers, so a killed one is not the whole pool');
  const pod = workers.spec.template.spec;
  const container = pod.containers[0]!;
  assert.equal(container.args, ['worker']);
  assert.is(container.command, undefined, 'keep the image ENTRYPOINT');
  assert.ok(
    container.resources?.requests?.cpu && container.resources.requests.memory && container.resources.limits?.memory,
    'requests cpu/memory and a memory limit',
  );
  const drainS = Number(configOf(built.eks).data.WORKER_DRAIN_TIMEOUT_S);
  assert.ok(drainS > 0, 'pjm-config sets WORKER_DRAIN_TIMEOUT_S, the drain the grace period is sized for');
  assert.ok(
    (pod.terminationGracePeriodSeconds ?? 30) > drainS + 5,
    `terminationGracePeriodSeconds (${pod.terminationGracePeriodSeconds}) must exceed WORKER_DRAIN_TIMEOUT_S (${drainS}) with room to hand the unit back`,
  );
  assert.equal(fromSecret(container.env, 'LINEAGE_STORE'), { name: 'pjm-postgres', key: 'LINEAGE_STORE' });
  assert.ok(!pod.volumes?.some((v) => v.persistentVolumeClaim), 'workers must not mount the ReadWriteOnce volume: it would pin every replica to one node');
  assert.is(pod.affinity, undefined, 'workers spread over nodes');
  const env = readTerraformEnv();
  assert.is(container.image, `${env.ECR_REPOSITORY_URL}:${env.IMAGE_TAG}`);
});

test('eks: the CronJob is the coordinator (EXECUTOR=workers), and every pod reads LINEAGE_STORE from the Secret pjm-postgres, a placeholder', () => {
  const cron = cronJobOf(built.eks).spec.jobTemplate.spec.template.spec.containers[0]!;
  assert.is(cron.env?.find((e) => e.name === 'EXECUTOR')?.value, 'workers');
  assert.not.ok(configOf(built.eks).data.EXECUTOR, "EXECUTOR is the CronJob's alone (the server does not coordinate)");
  for (const template of podTemplates(built.eks)) {
    assert.equal(
      fromSecret(template.spec.containers[0]!.env, 'LINEAGE_STORE'),
      { name: 'pjm-postgres', key: 'LINEAGE_STORE' },
      template.spec.containers[0]!.name,
    );
  }
  const secret = findObject(built.eks, 'Secret', 'pjm-postgres') as unknown as { data: Record<string, string> };
  const url = Buffer.from(secret.data.LINEAGE_STORE!, 'base64').toString('utf8');
  assert.match(url, /^postgres:\/\/USER:PASSWORD@HOST:5432\/\w+$/, 'the committed Secret is the documented placeholder, never a credential');
  // Local clusters keep the SQLite store on the volume: no worker pool there.
  assert.not.ok(built.local.some((o) => o.metadata.name === 'pjm-workers' || o.metadata.name === 'pjm-postgres'));
});

test('local: the locally built image, assets on the volume', () => {
  for (const template of podTemplates(built.local)) assert.is(template.spec.containers[0]!.image, 'pjm-lmp-assets:dev');
  assert.is(configOf(built.local).data.STORAGE, 'local');
});

test('eks: image from ECR, assets in the S3 bucket and prefix from Terraform, ServiceAccount bound to the IRSA role', () => {
  const env = readTerraformEnv();
  for (const template of podTemplates(built.eks)) {
    assert.is(template.spec.containers[0]!.image, `${env.ECR_REPOSITORY_URL}:${env.IMAGE_TAG}`);
  }
  const config = configOf(built.eks).data;
  assert.equal([config.STORAGE, config.S3_BUCKET, config.S3_PREFIX, config.S3_REGION], ['s3', env.S3_BUCKET, env.S3_PREFIX, env.AWS_REGION]);
  const account = findObject(built.eks, 'ServiceAccount', 'pjm-lmp');
  assert.is(account.metadata.annotations?.['eks.amazonaws.com/role-arn'], env.SERVING_ROLE_ARN);
  assert.match(env.SERVING_ROLE_ARN ?? '', /^arn:aws:iam::\d{12}:role\/[\w+=,.@-]+$/);
  assert.ok(!built.eks.some((o) => o.metadata.name === 'pjm-terraform-outputs'), 'the helper ConfigMap of Terraform values leaked into the output');
  const pvc = findObject(built.eks, 'PersistentVolumeClaim', 'pjm-data') as unknown as { spec: { storageClassName?: string } };
  const storageClass = findObject(built.eks, 'StorageClass', pvc.spec.storageClassName ?? '(none)') as unknown as {
    provisioner: string;
    parameters?: Record<string, string>;
  };
  assert.is(storageClass.provisioner, 'ebs.csi.aws.com');
  assert.is(storageClass.parameters?.encrypted, 'true');
});

test.run();
