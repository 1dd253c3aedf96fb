// Writes infrastructure/k8s/overlays/eks/terraform.env from Terraform's outputs, so the eks
// overlay points at the bucket, role, registry and region that `terraform apply` created.
//
//   npx tsx infrastructure/k8s/terraform-env.ts [--image-tag TAG]
//
// TAG defaults to the current git commit (the tag the README pushes). Needs `terraform`
// on PATH and an applied infrastructure/terraform.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The Terraform outputs the overlay uses; each becomes the upper-cased key in terraform.env. */
export const OVERLAY_OUTPUTS = ['cluster_name', 'aws_region', 's3_bucket', 's3_prefix', 'serving_role_arn', 'ecr_repository_url'] as const;
export type OverlayOutput = (typeof OVERLAY_OUTPUTS)[number];

/** The key of terraform.env that is not a Terraform output: the image tag pushed to ECR. */
export const IMAGE_TAG_KEY = 'IMAGE_TAG';

export const TERRAFORM_ENV_PATH = fileURLToPath(new URL('./overlays/eks/terraform.env', import.meta.url));
const TERRAFORM_DIR = fileURLToPath(new URL('../terraform', import.meta.url));

/** `terraform output -json` shape: each output's value (and more we ignore). */
export type TerraformOutputs = Readonly<Record<string, { readonly value: unknown }>>;

/** The text of terraform.env for these outputs and image tag. Throws naming a missing or non-string output. */
export function renderTerraformEnv(outputs: TerraformOutputs, imageTag: string): string {
  const lines = [
    '# Written by `npx tsx infrastructure/k8s/terraform-env.ts` from `terraform output -json`.',
    `# Each key but ${IMAGE_TAG_KEY} is the upper-cased name of a Terraform output; ${IMAGE_TAG_KEY} is the tag pushed to ECR.`,
  ];
  for (const name of OVERLAY_OUTPUTS) {
    const value = outputs[name]?.value;
    if (typeof value !== 'string' || value === '') {
      throw new Error(`Terraform output "${name}" is missing or not a string: run \`terraform apply\` in infrastructure/terraform first.`);
    }
    lines.push(`${name.toUpperCase()}=${value}`);
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(imageTag)) {
    throw new Error(`"${imageTag}" is not a valid image tag (letters, digits, '_', '.', '-'; at most 128).`);
  }
  lines.push(`${IMAGE_TAG_KEY}=${imageTag}`);
  return lines.join('\n') + '\n';
}

/** Parses KEY=VALUE lines (comments and blank lines skipped), as kustomize's `envs:` reads them. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const at = trimmed.indexOf('=');
    if (at <= 0) throw new Error(`"${line}" is not KEY=VALUE.`);
    values[trimmed.slice(0, at)] = trimmed.slice(at + 1);
  }
  return values;
}

/** Reads the current terraform.env. */
export function readTerraformEnv(path: string = TERRAFORM_ENV_PATH): Record<string, string> {
  return parseEnvFile(readFileSync(path, 'utf8'));
}

function main(argv: readonly string[]): void {
  const at = argv.indexOf('--image-tag');
  const imageTag = at >= 0 ? argv[at + 1] : execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
  if (!imageTag) throw new Error('--image-tag needs a value.');
  const json = execFileSync('terraform', [`-chdir=${TERRAFORM_DIR}`, 'output', '-json'], { encoding: 'utf8' });
  writeFileSync(TERRAFORM_ENV_PATH, renderTerraformEnv(JSON.parse(json) as TerraformOutputs, imageTag));
  console.log(`Wrote ${TERRAFORM_ENV_PATH} (image tag ${imageTag}).`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
