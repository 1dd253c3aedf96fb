// The Terraform stack (infrastructure/terraform), checked without the terraform binary or
// AWS: every file parses as HCL; the standard modules are used; the bucket is versioned,
// encrypted, private and has lifecycle rules; the IRSA role may touch only the bucket prefix
// and trusts only the ServiceAccount the manifests use; and the outputs the eks overlay
// reads exist and point at the right resources.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { loadTerraform, references, variableDefault } from '../../infrastructure/checks/terraform.ts';
import type { HclBody } from '../../infrastructure/checks/terraform.ts';
import { buildOverlay, findObject } from '../../infrastructure/checks/kustomize.ts';
import { IMAGE_TAG_KEY, OVERLAY_OUTPUTS, parseEnvFile, readTerraformEnv, renderTerraformEnv } from '../../infrastructure/k8s/terraform-env.ts';

const root = new URL('../..', import.meta.url).pathname;
const tf = await loadTerraform(join(root, 'infrastructure/terraform'));
const eks = buildOverlay(join(root, 'infrastructure/k8s/overlays/eks'));

const mod = (name: string): HclBody => {
  const found = tf.modules[name];
  if (!found) throw new Error(`infrastructure/terraform declares no module "${name}"; modules: ${Object.keys(tf.modules).join(', ')}`);
  return found;
};
const get = (body: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], body);
const one = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

test('every module comes from terraform-aws-modules with a pinned major version', () => {
  const expected = {
    vpc: 'terraform-aws-modules/vpc/aws',
    eks: 'terraform-aws-modules/eks/aws',
    ecr: 'terraform-aws-modules/ecr/aws',
    s3_bucket: 'terraform-aws-modules/s3-bucket/aws',
    serving_irsa: 'terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks',
  };
  for (const [name, source] of Object.entries(expected)) assert.is(mod(name).source, source, `module "${name}" source`);
  for (const [name, body] of Object.entries(tf.modules)) {
    assert.match(String(body.source), /^terraform-aws-modules\//, `module "${name}" is not a terraform-aws-modules module`);
    assert.match(String(body.version), /^~> \d+\.\d+/, `module "${name}" has no "~> MAJOR.MINOR" version`);
  }
});

test('EKS: a managed node group in the private subnets, IRSA on, and the EBS CSI driver the eks StorageClass provisions with', () => {
  const cluster = mod('eks');
  assert.is(cluster.cluster_name, '${var.name}');
  assert.is(cluster.subnet_ids, '${module.vpc.private_subnets}');
  assert.is(cluster.vpc_id, '${module.vpc.vpc_id}');
  assert.ok(Object.keys((cluster.eks_managed_node_groups ?? {}) as object).length >= 1, 'no eks_managed_node_groups');
  assert.is(cluster.enable_irsa, true);
  const storageClass = findObject(eks, 'StorageClass', 'pjm-gp3') as unknown as { provisioner: string };
  assert.is(storageClass.provisioner, 'ebs.csi.aws.com');
  assert.ok(
    get(cluster, 'cluster_addons', 'aws-ebs-csi-driver'),
    'the eks overlay provisions volumes with ebs.csi.aws.com, but cluster_addons has no aws-ebs-csi-driver',
  );
  assert.equal(references(get(cluster, 'cluster_addons', 'aws-ebs-csi-driver', 'service_account_role_arn')), ['module.ebs_csi_irsa.iam_role_arn']);
  assert.equal(
    get(mod('vpc'), 'public_subnet_tags', 'kubernetes.io/role/elb'),
    1,
    'public subnets need the kubernetes.io/role/elb tag for the LoadBalancer Service',
  );
});

test('S3: the asset bucket is versioned, encrypted, blocks public access and has lifecycle rules', () => {
  const bucket = mod('s3_bucket');
  assert.is(bucket.bucket, '${local.bucket_name}');
  assert.is(get(bucket, 'versioning', 'enabled'), true);
  assert.ok(get(bucket, 'server_side_encryption_configuration', 'rule', 'apply_server_side_encryption_by_default', 'sse_algorithm'), 'no default encryption');
  for (const flag of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) assert.is(bucket[flag], true, flag);
  const rules = bucket.lifecycle_rule as HclBody[];
  assert.ok(Array.isArray(rules) && rules.length > 0, 'no lifecycle_rule');
  assert.ok(
    rules.some((r) => r.enabled === true && get(r, 'noncurrent_version_expiration', 'noncurrent_days') !== undefined),
    'no enabled rule expires noncurrent versions',
  );
  assert.ok(
    rules.some((r) => typeof r.abort_incomplete_multipart_upload_days === 'number'),
    'no rule aborts incomplete multipart uploads',
  );
});

test('IRSA: the serving role may only list, read and write objects under the bucket prefix', () => {
  const role = mod('serving_irsa');
  assert.equal(Object.values(role.role_policy_arns as object), ['${aws_iam_policy.assets.arn}'], 'the role must carry the assets policy and nothing else');
  assert.is(get(tf.resources, 'aws_iam_policy', 'assets', 'policy'), '${data.aws_iam_policy_document.assets.json}');
  const statements = get(tf.data, 'aws_iam_policy_document', 'assets', 'statement') as HclBody[];
  const bucketArn = '${module.s3_bucket.s3_bucket_arn}';
  const prefixObjects = `${bucketArn}/\${var.s3_prefix}/*`;
  assert.ok(statements.length > 0, 'the policy has no statement');
  for (const statement of statements) {
    assert.is(statement.effect ?? 'Allow', 'Allow');
    const actions = statement.actions as string[];
    const resources = statement.resources as string[];
    for (const action of actions) assert.match(action, /^s3:[A-Za-z]+$/, `action ${action} is not one named S3 action`);
    if (actions.includes('s3:ListBucket')) {
      assert.equal(actions, ['s3:ListBucket'], 'keep ListBucket in its own statement: it applies to the bucket, not objects');
      assert.equal(resources, [bucketArn]);
      const condition = one(statement.condition) as HclBody | undefined;
      assert.equal(
        [condition?.variable, condition?.values],
        ['s3:prefix', ['${var.s3_prefix}/*']],
        'ListBucket must be limited to the prefix with an s3:prefix condition',
      );
    } else {
      assert.equal(resources, [prefixObjects], `${actions.join(', ')} must be limited to objects under the prefix`);
    }
  }
  const trusted = get(role, 'oidc_providers', 'main', 'namespace_service_accounts');
  assert.equal(trusted, ['${var.k8s_namespace}:${var.k8s_service_account}']);
});

test('IRSA trusts exactly the namespace and ServiceAccount the pods run as', () => {
  const namespace = variableDefault(tf, 'k8s_namespace');
  const account = variableDefault(tf, 'k8s_service_account');
  const deployment = findObject(eks, 'Deployment', 'pjm-serving') as unknown as {
    metadata: { namespace: string };
    spec: { template: { spec: { serviceAccountName: string } } };
  };
  const cronjob = findObject(eks, 'CronJob', 'pjm-materialize') as unknown as {
    metadata: { namespace: string };
    spec: { jobTemplate: { spec: { template: { spec: { serviceAccountName: string } } } } };
  };
  for (const [name, ns, sa] of [
    ['pjm-serving', deployment.metadata.namespace, deployment.spec.template.spec.serviceAccountName],
    ['pjm-materialize', cronjob.metadata.namespace, cronjob.spec.jobTemplate.spec.template.spec.serviceAccountName],
  ]) {
    assert.equal(`${ns}:${sa}`, `${namespace}:${account}`, `${name} runs as ${ns}:${sa}, but the IRSA role trusts ${namespace}:${account}`);
  }
});

test('the outputs the eks overlay reads exist and point at the cluster, the bucket, the role and the registry', () => {
  const expected: Record<string, string> = {
    cluster_name: 'module.eks.cluster_name',
    s3_bucket: 'module.s3_bucket.s3_bucket_id',
    s3_prefix: 'var.s3_prefix',
    serving_role_arn: 'module.serving_irsa.iam_role_arn',
    ecr_repository_url: 'module.ecr.repository_url',
    aws_region: 'var.region',
  };
  for (const name of OVERLAY_OUTPUTS) {
    assert.ok(tf.outputs[name], `terraform-env.ts reads output "${name}", which infrastructure/terraform/outputs.tf does not declare`);
    assert.equal(references(tf.outputs[name]!.value), [expected[name]], `output "${name}"`);
  }
  const env = readTerraformEnv();
  const keys = Object.keys(env).sort();
  assert.equal(
    keys,
    [...OVERLAY_OUTPUTS.map((n) => n.toUpperCase()), IMAGE_TAG_KEY].sort(),
    'overlays/eks/terraform.env keys must be the outputs terraform-env.ts writes',
  );
  assert.is(env.S3_PREFIX, variableDefault(tf, 's3_prefix'), 'terraform.env S3_PREFIX differs from the Terraform default');
  assert.is(env.CLUSTER_NAME, variableDefault(tf, 'name'), 'terraform.env CLUSTER_NAME differs from the Terraform default');
});

test('RDS: the PostgreSQL lineage store is private, encrypted, its password kept by RDS, and reachable on 5432 from the EKS nodes only', () => {
  const db = get(tf.resources, 'aws_db_instance', 'lineage') as HclBody;
  assert.ok(db, 'no aws_db_instance "lineage"');
  assert.is(db.engine, 'postgres');
  assert.is(db.publicly_accessible, false);
  assert.is(db.storage_encrypted, true);
  assert.is(db.manage_master_user_password, true, 'the master password must be generated and kept in Secrets Manager, never written here');
  assert.not.ok('password' in db, 'no literal password');
  assert.is(db.deletion_protection, '${var.rds_deletion_protection}');
  assert.is(variableDefault(tf, 'rds_deletion_protection'), true, 'deletion protection is on unless turned off to tear down');
  assert.equal(db.vpc_security_group_ids, ['${aws_security_group.lineage.id}']);
  assert.is(db.db_subnet_group_name, '${aws_db_subnet_group.lineage.name}');
  assert.is(get(tf.resources, 'aws_db_subnet_group', 'lineage', 'subnet_ids'), '${module.vpc.private_subnets}');
  assert.is(get(tf.resources, 'aws_security_group', 'lineage', 'vpc_id'), '${module.vpc.vpc_id}');
  // Exactly one way in: 5432/tcp from the node security group; no CIDR rule anywhere on it.
  const rules = Object.values(tf.resources.aws_vpc_security_group_ingress_rule ?? {}).filter((r) => r.security_group_id === '${aws_security_group.lineage.id}');
  assert.is(rules.length, 1, 'one ingress rule on the lineage security group');
  assert.equal(
    [rules[0]!.ip_protocol, rules[0]!.from_port, rules[0]!.to_port, rules[0]!.referenced_security_group_id],
    ['tcp', 5432, 5432, '${module.eks.node_security_group_id}'],
  );
  assert.not.ok('cidr_ipv4' in rules[0]!);
  assert.not.ok('ingress' in (get(tf.resources, 'aws_security_group', 'lineage') as HclBody), 'no inline ingress blocks beside the rule');
  // What the walk-through builds LINEAGE_STORE from.
  for (const [name, ref] of [
    ['rds_endpoint', 'aws_db_instance.lineage.address'],
    ['rds_database', 'aws_db_instance.lineage.db_name'],
    ['rds_username', 'aws_db_instance.lineage.username'],
  ]) {
    assert.equal(references(tf.outputs[name!]?.value), [ref!], `output "${name}"`);
  }
  assert.match(String(tf.outputs.rds_master_user_secret_arn?.value), /aws_db_instance\.lineage\.master_user_secret\[0\]\.secret_arn/);
});

test('terraform-env.ts renders the overlay values from `terraform output -json`, and names a missing output', () => {
  const outputs = Object.fromEntries(OVERLAY_OUTPUTS.map((n) => [n, { value: `value-of-${n}`, type: 'string', sensitive: false }]));
  const rendered = parseEnvFile(renderTerraformEnv(outputs, 'a1b2c3d4e5f6'));
  assert.is(rendered.S3_BUCKET, 'value-of-s3_bucket');
  assert.is(rendered.SERVING_ROLE_ARN, 'value-of-serving_role_arn');
  assert.is(rendered.IMAGE_TAG, 'a1b2c3d4e5f6');
  const { s3_bucket: _missing, ...withoutBucket } = outputs;
  assert.throws(() => renderTerraformEnv(withoutBucket, 'x'), /"s3_bucket" is missing/);
  assert.throws(() => renderTerraformEnv(outputs, 'bad tag'), /not a valid image tag/);
});

test.run();
