// Finds and loads the Definitions module the CLI, server and UI share: the one the settings
// name (--definitions PATH, else $ASSET_DEFINITIONS: RuntimeSettings.definitions), else
// assets/definitions.ts of this project (its compiled dist/assets/definitions.js when this
// code runs compiled).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isCompiled, projectRoot } from '../../lib/code-location.ts';
import type { Definitions, DefinitionsOptions } from '../definitions.ts';
import { RuntimeError } from '../errors.ts';

export const PROJECT_ROOT = projectRoot();

/** The module to load: `named` (from the settings), else the project's own. */
export function definitionsPath(named?: string): string {
  const bundled = isCompiled(import.meta.url) ? 'dist/assets/definitions.js' : 'assets/definitions.ts';
  return resolve(named ?? resolve(PROJECT_ROOT, bundled));
}

/**
 * Loads the module `named` (RuntimeSettings.definitions; undefined: the project's own); a
 * default export that is a function is called with `options` (the data dir, the environment).
 */
export async function loadDefinitions(named: string | undefined, options: DefinitionsOptions): Promise<Definitions<unknown>> {
  const path = definitionsPath(named);
  if (!existsSync(path)) {
    throw new RuntimeError('invalid-definition', `Definitions module ${path} does not exist. Pass --definitions PATH or set ASSET_DEFINITIONS.`);
  }
  if (/\.[mc]?ts$/.test(path) && isCompiled(import.meta.url)) {
    // bin/materialize.js runs the sources for TypeScript definitions; compiled code loading them would hold two copies of the runtime.
    throw new RuntimeError(
      'invalid-definition',
      `${path} is TypeScript, but this process runs the compiled runtime (dist/). Start it through bin/materialize.js, which runs the sources for TypeScript definitions, or set MATERIALIZE_FROM_SOURCE=1.`,
    );
  }
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  let defs = mod.default ?? mod.definitions;
  if (typeof defs === 'function') defs = await (defs as (o: DefinitionsOptions) => unknown)(options);
  if (!defs || typeof defs !== 'object' || !Array.isArray((defs as Definitions<unknown>).assets)) {
    throw new RuntimeError('invalid-definition', `${path} must export a Definitions object (from defineDefinitions) as default or as "definitions".`);
  }
  return defs as Definitions<unknown>;
}
