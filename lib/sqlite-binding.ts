// Where better-sqlite3's compiled addon is, for its `nativeBinding` option. Left to find it
// itself, better-sqlite3 asks the `bindings` package, which reads a stack trace to learn its
// caller's package and tries a dozen candidate paths: 5-15 ms of every CLI start, measured on
// the shared 2-core machine. When the addon is not where better-sqlite3's install puts it (a
// custom build), nothing is named and `bindings` looks for it as before.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

let binding: { readonly nativeBinding?: string } | undefined;

/** Options to spread into `new Database(path, { ... })`. */
export function sqliteNativeBinding(): { readonly nativeBinding?: string } {
  if (binding) return binding;
  const path = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'build', 'Release', 'better_sqlite3.node');
  return (binding = existsSync(path) ? { nativeBinding: path } : {});
}
