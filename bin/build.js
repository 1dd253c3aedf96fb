#!/usr/bin/env node
// `npm run build` (and `prepare`, which `npm ci` runs): bundles runtime/, assets/, serving/ and
// lib/ into dist/ with esbuild (no type check, `npm run typecheck` does that) and records when,
// so bin/materialize.js knows dist/ is current. In a container's dependency stage, where only
// package.json is copied, there is nothing to compile yet: it says so.
//
// A bundle, not one output file per source (tsc's layout, which the CLI started from before):
// Node 20 resolves, reads, compiles and links every ES module on its own, and a no-op
// `materialize` loaded ~90 of ours and ~30 files of node_modules before doing any work (its
// CPU: 0.297 s as tsc's files, 0.237 s bundled, mean of 12 runs). Code splitting keeps one copy of
// each module across the entry points, so definitions that import dist/runtime/index.js share
// the CLI's classes. Most npm packages stay outside (BUNDLED_PACKAGES says which do not).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeStamp } from './compiled.js';

const root = new URL('..', import.meta.url).pathname;
if (!existsSync(join(root, 'runtime'))) {
  console.log('build: no sources here (a dependency-only install); nothing to compile.');
  process.exit(0);
}

/**
 * The modules started or loaded by path, each kept at its path under dist/ (with .js):
 * the CLI and the server (bin/materialize.js), the runtime's API (for definitions in
 * JavaScript), the project's definitions (runtime/cli/load-definitions.ts), the worker
 * threads' modules (lib/code-location.ts, workerSource) and the benchmarks' definitions
 * (bench/runtime.ts times the CLI with them; bench/ is not in the image).
 */
const ENTRY_POINTS = [
  'runtime/cli/main.ts',
  'serving/main.ts',
  'runtime/index.ts',
  'assets/definitions.ts',
  'lib/xgboost/load-worker.ts',
  'lib/xgboost/train-worker.ts',
  'assets/pjm/lear/lear-worker.ts',
  'bench/fixtures/synthetic-defs.ts',
].filter((entry) => existsSync(join(root, entry)));

/**
 * The npm packages bundled in: pure JavaScript that every CLI start loads (the graph library
 * and its algorithms, the calendar and cron libraries, and their own dependencies), where
 * Node would otherwise resolve and load ~30 files of node_modules, most of them CommonJS
 * scanned for their exports. Every other package stays outside, loaded from node_modules as
 * before: native addons find their files beside them, and the server's libraries load once.
 */
const BUNDLED_PACKAGES = new Set([
  'graphology',
  'graphology-dag',
  'graphology-traversal',
  'graphology-utils',
  'graphology-indices',
  'mnemonist',
  'obliterator',
  'luxon',
  'croner',
  'fastest-levenshtein',
]);
const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
const outsidePackages = {
  name: 'outside-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED_PACKAGES.has(packageOf(args.path)) ? undefined : { path: args.path, external: true }));
  },
};

const { build } = await import('esbuild');
rmSync(join(root, 'dist'), { recursive: true, force: true });
let inputs;
try {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir: 'dist',
    outbase: '.',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [outsidePackages],
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  // What dist/ was built from: bin/compiled.js stats these to know whether it is current.
  inputs = Object.keys(result.metafile.inputs).filter((path) => !path.split('/').includes('node_modules'));
} catch (err) {
  // esbuild has printed what failed and where.
  console.error(`build: esbuild failed (${err.message.split('\n')[0]}); dist/ is not marked current, so bin/materialize.js runs the sources.`);
  process.exit(1);
}
writeStamp(inputs);
