// Finds and loads the Definitions module the CLI, server and UI share:
// --definitions PATH, else $ASSET_DEFINITIONS, else assets/definitions.ts of this project.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import type { Definitions } from '../definitions.ts';
import { RuntimeError } from '../errors.ts';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export function definitionsPath(explicit?: string): string {
  return resolve(explicit ?? process.env.ASSET_DEFINITIONS ?? resolve(PROJECT_ROOT, 'assets/definitions.ts'));
}

export async function loadDefinitions(explicit?: string): Promise<Definitions<unknown>> {
  const path = definitionsPath(explicit);
  if (!existsSync(path)) {
    throw new RuntimeError('invalid-definition', `Definitions module ${path} does not exist. Pass --definitions PATH or set ASSET_DEFINITIONS.`);
  }
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  let defs = mod.default ?? mod.definitions;
  if (typeof defs === 'function') defs = await (defs as () => unknown)();
  if (!defs || typeof defs !== 'object' || !Array.isArray((defs as Definitions<unknown>).assets)) {
    throw new RuntimeError('invalid-definition', `${path} must export a Definitions object (from defineDefinitions) as default or as "definitions".`);
  }
  return defs as Definitions<unknown>;
}
