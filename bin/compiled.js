// Whether the precompiled JavaScript in dist/ (`npm run build`) is current: built after the
// last change to any TypeScript source it compiles. bin/materialize.js starts from dist/ when
// it is, and from the sources through tsx when it is not, so an edited source never runs stale.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const projectRoot = new URL('..', import.meta.url).pathname;
const stampOf = (root) => join(root, 'dist', '.built');
/** The folders tsconfig.build.json compiles (bench/fixtures: the benchmarks' definitions; not in the image). */
const SOURCES = ['runtime', 'assets', 'serving', 'lib', 'bench/fixtures'];

function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return 0; // a folder this checkout does not have holds no sources
    throw err;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** `root`: the project folder (tests pass another). */
export function distIsCurrent(root = projectRoot) {
  let built;
  try {
    built = statSync(stampOf(root)).mtimeMs;
  } catch {
    return false;
  }
  return SOURCES.every((d) => newestSource(join(root, d)) < built);
}

export function writeStamp(root = projectRoot) {
  writeFileSync(stampOf(root), `${new Date().toISOString()}\n`);
}
