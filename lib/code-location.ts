// Where this process's code runs from: the TypeScript sources (through tsx's loader, as the
// tests and developers run it) or the JavaScript that `npm run build` compiles into dist/
// (what bin/materialize.js starts when it is current, to skip compiling at every start).
// Modules that name files at run time — a worker thread's module, the project's ui/ and
// data/ folders — ask here, so both layouts work.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** True when `moduleUrl` (a module's `import.meta.url`) is compiled JavaScript, not a TypeScript source. */
export function isCompiled(moduleUrl: string): boolean {
  return moduleUrl.endsWith('.js');
}

let root: string | undefined;

/** The project's root folder (the nearest one up from here with a package.json): the same for sources and dist/. */
export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}: cannot find the project root.`);
    dir = up;
  }
  return (root = dir);
}

/**
 * The source of a worker thread (for `new Worker(source, { eval: true })`) that runs the
 * module `path` (from the project root, without extension: `lib/xgboost/load-worker`): its
 * source, or its bundle under dist/ (bin/build.js keeps each worker module at its path there;
 * the calling code itself may sit in a shared chunk, so its own URL says nothing of where
 * the worker module is). Under tsx the worker registers tsx first: Node 20 does not carry
 * the main thread's loader hooks into worker threads.
 */
export function workerSource(path: string): string {
  if (isCompiled(import.meta.url)) return `import(${JSON.stringify(pathToFileURL(join(projectRoot(), 'dist', `${path}.js`)).href)})`;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const url = pathToFileURL(join(projectRoot(), `${path}.ts`)).href;
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`;
}
