// Answers "does .dockerignore keep this path out of the build context?" with Docker's own
// matching rules (patterns, `!` exceptions, last match wins) through @balena/dockerignore.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// The package is CommonJS with `module.exports = factory` but declares an ES default export,
// which TypeScript's NodeNext resolution cannot reconcile; require() gets the factory as is.
const ignore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;

/** A predicate over paths relative to the build context: true when the path is excluded. */
export function readDockerignore(path: string): (relativePath: string) => boolean {
  const rules = ignore().add(readFileSync(path, 'utf8'));
  return (relativePath) => rules.ignores(relativePath);
}
