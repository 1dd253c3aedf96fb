// Renders a kustomize overlay the way `kubectl apply -k` would, and parses the result into
// plain Kubernetes objects for the infrastructure tests and for inspection.
import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as kustomize prints it. The fields the tests need are typed. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/** Oldest kustomize that understands the `labels` and `replacements` fields the overlays use. */
const MIN_KUSTOMIZE_MAJOR = 5;

/** Runs `kubectl kustomize DIR` and parses every object it prints. */
export function buildOverlay(dir: string): K8sObject[] {
  let output: string;
  try {
    output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        `kubectl is not installed: it renders ${dir}. Install a kubectl whose \`kubectl version --client\` ` +
          `reports Kustomize v${MIN_KUSTOMIZE_MAJOR} or later (Debian's kubernetes-client 1.20 bundles kustomize v2, too old).`,
      );
    }
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr?.trim() || e.message}`);
  }
  return parseManifests(output, dir);
}

/** The `Kustomize Version: vX.Y.Z` that the installed kubectl reports, or null. */
export function kustomizeVersion(): string | null {
  try {
    const text = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /Kustomize Version:\s*v?(\S+)/.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Parses a multi-document YAML stream of Kubernetes objects; `source` names it in errors. */
export function parseManifests(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const [index, doc] of parseAllDocuments(text).entries()) {
    if (doc.errors.length > 0) throw new Error(`${source}, document ${index + 1}: ${doc.errors[0]?.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isK8sObject(value)) {
      throw new Error(`${source}, document ${index + 1} is not a Kubernetes object (apiVersion, kind and metadata.name are required).`);
    }
    objects.push(value);
  }
  return objects;
}

function isK8sObject(value: unknown): value is K8sObject {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const metadata = v.metadata as Record<string, unknown> | undefined;
  return typeof v.apiVersion === 'string' && typeof v.kind === 'string' && typeof metadata?.name === 'string';
}

/** The one object of `kind` whose name is `name` or, for generated objects, starts with `name-<hash>`. */
export function findObject(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const matches = objects.filter((o) => o.kind === kind && (o.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(o.metadata.name)));
  if (matches.length !== 1) {
    const present = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`Expected one ${kind} named ${name}, found ${matches.length}. Objects: ${present}.`);
  }
  return matches[0]!;
}
