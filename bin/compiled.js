// Whether the bundle in dist/ (`npm run build`) is current: built after the last change to any
// TypeScript source it was built from. bin/materialize.js starts from dist/ when it is, and
// from the sources through tsx when it is not, so an edited source never runs stale.
//
// The build records its inputs (esbuild's metafile) in the stamp, so this check stats those
// files and nothing else: walking the source folders (readdir, a path join and a stat per
// entry) took 2-9 ms of every CLI start. A source no bundle includes cannot make dist/ stale,
// and a new file only matters once an input imports it, which changes that input.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const projectRoot = new URL('..', import.meta.url).pathname;
const stampOf = (root) => join(root, 'dist', '.built');

/** `root`: the project folder (tests pass another). */
export function distIsCurrent(root = projectRoot) {
  let built;
  let inputs;
  try {
    const stamp = stampOf(root);
    built = statSync(stamp).mtimeMs;
    inputs = JSON.parse(readFileSync(stamp, 'utf8')).inputs;
  } catch {
    return false; // never built, or by an older build that recorded no inputs
  }
  if (!Array.isArray(inputs) || inputs.length === 0) return false;
  const base = root.endsWith('/') ? root : `${root}/`;
  for (const input of inputs) {
    const stat = statSync(base + input, { throwIfNoEntry: false });
    if (stat === undefined || stat.mtimeMs >= built) return false;
  }
  return true;
}

/** Records a build of `inputs` (paths from `root`) as of now. */
export function writeStamp(inputs, root = projectRoot) {
  writeFileSync(stampOf(root), `${JSON.stringify({ builtAt: new Date().toISOString(), inputs })}\n`);
}
