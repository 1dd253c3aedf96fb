// Loads a Terraform root module without the terraform binary: every *.tf file is parsed
// to JSON by @cdktf/hcl2json (Terraform's own HCL parser compiled to WebAssembly, offline)
// and the files are merged, so tests can look up blocks and the references between them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/** A block body as hcl2json returns it: expressions stay strings such as "${module.eks.cluster_name}". */
export type HclBody = Readonly<Record<string, unknown>>;

export interface TerraformModule {
  readonly dir: string;
  readonly files: readonly string[];
  readonly modules: Readonly<Record<string, HclBody>>;
  readonly outputs: Readonly<Record<string, HclBody>>;
  readonly variables: Readonly<Record<string, HclBody>>;
  readonly locals: HclBody;
  /** `resource "TYPE" "NAME"` as resources[TYPE][NAME]. */
  readonly resources: Readonly<Record<string, Readonly<Record<string, HclBody>>>>;
  /** `data "TYPE" "NAME"` as data[TYPE][NAME]. */
  readonly data: Readonly<Record<string, Readonly<Record<string, HclBody>>>>;
}

/** Parses and merges every `*.tf` file of `dir`. Throws naming the file on a syntax error or a duplicate block. */
export async function loadTerraform(dir: string): Promise<TerraformModule> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort();
  if (files.length === 0) throw new Error(`${dir} has no *.tf files.`);
  const modules: Record<string, HclBody> = {};
  const outputs: Record<string, HclBody> = {};
  const variables: Record<string, HclBody> = {};
  const locals: Record<string, unknown> = {};
  const resources: Record<string, Record<string, HclBody>> = {};
  const data: Record<string, Record<string, HclBody>> = {};

  for (const file of files) {
    let json: Record<string, unknown>;
    try {
      json = (await parse(file, readFileSync(join(dir, file), 'utf8'))) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${join(dir, file)} is not valid HCL: ${(error as Error).message}`);
    }
    const place = (into: Record<string, HclBody>, kind: string) => {
      for (const [name, bodies] of Object.entries((json[kind] ?? {}) as Record<string, HclBody[]>)) {
        if (name in into) throw new Error(`${join(dir, file)}: ${kind} "${name}" is declared twice.`);
        into[name] = bodies[0] ?? {};
      }
    };
    place(modules, 'module');
    place(outputs, 'output');
    place(variables, 'variable');
    for (const body of (json.locals ?? []) as HclBody[]) Object.assign(locals, body);
    for (const [kind, target] of [
      ['resource', resources],
      ['data', data],
    ] as const) {
      for (const [type, byName] of Object.entries((json[kind] ?? {}) as Record<string, Record<string, HclBody[]>>)) {
        target[type] ??= {};
        for (const [name, bodies] of Object.entries(byName)) {
          if (name in target[type]) throw new Error(`${join(dir, file)}: ${kind} "${type}" "${name}" is declared twice.`);
          target[type][name] = bodies[0] ?? {};
        }
      }
    }
  }
  return { dir, files, modules, outputs, variables, locals, resources, data };
}

/** The references inside an HCL expression string: "${module.eks.cluster_name}" -> ["module.eks.cluster_name"]. */
export function references(expression: unknown): string[] {
  if (typeof expression !== 'string') return [];
  const found: string[] = [];
  for (const interpolation of expression.matchAll(/\$\{([^}]*)\}/g)) {
    for (const ref of interpolation[1]!.matchAll(/\b(?:module|var|local|data|aws_[a-z0-9_]+)\.[A-Za-z0-9_.-]+/g)) found.push(ref[0]);
  }
  return found;
}

/** The default of `variable "name"`, or throws naming the variable. */
export function variableDefault(tf: TerraformModule, name: string): unknown {
  const variable = tf.variables[name];
  if (!variable) throw new Error(`${tf.dir}: variable "${name}" is not declared.`);
  if (!('default' in variable)) throw new Error(`${tf.dir}: variable "${name}" has no default.`);
  return variable.default;
}
