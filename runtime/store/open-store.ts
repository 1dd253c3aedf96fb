// Which lineage store a process uses: LINEAGE_STORE=postgres://… (or postgresql://…)
// for the shared PostgreSQL store, else the SQLite file under DATA_DIR as before.
import { join, resolve } from 'node:path';
import { RuntimeError } from '../errors.ts';
import type { LineageStore } from './lineage-store-api.ts';
import { redactUrl } from './postgres/redact-url.ts';
import { SqliteLineageStore } from './sqlite-store.ts';

export type LineageStoreTarget = { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string };

/** The SQLite store's file under a data directory. */
export const sqliteStorePath = (dataDir: string): string => join(resolve(dataDir), 'store', 'lineage.sqlite');

/**
 * Parses a store location: a postgres:// or postgresql:// URL, or a SQLite file path
 * (':memory:' for a private in-memory store). Any other URL scheme is refused.
 */
export function parseStoreTarget(value: string, source = 'LINEAGE_STORE'): LineageStoreTarget {
  const text = value.trim();
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      if (!url.hostname && !url.searchParams.get('host')) throw new Error('no host');
    } catch {
      throw new RuntimeError('store-config', `${source}=${redactUrl(text)} is not a valid PostgreSQL URL: write postgres://USER:PASSWORD@HOST:5432/DATABASE.`);
    }
    return { kind: 'postgres', url: text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new RuntimeError(
      'store-config',
      `${source}=${text.replace(/\/\/[^@/]*@/, '//***@')} is not a store this runtime knows: use postgres://USER:PASSWORD@HOST:5432/DATABASE, or leave it unset for the SQLite file under DATA_DIR.`,
    );
  }
  if (text === '')
    throw new RuntimeError(
      'store-config',
      `${source} is empty: set it to postgres://USER:PASSWORD@HOST:5432/DATABASE, or unset it for the SQLite file under DATA_DIR.`,
    );
  return { kind: 'sqlite', path: text };
}

/** The target the environment selects: LINEAGE_STORE when set, else the SQLite file under `dataDir`. */
export function storeTargetFromEnv(env: NodeJS.ProcessEnv, dataDir: string): LineageStoreTarget {
  const value = env.LINEAGE_STORE;
  return value === undefined ? { kind: 'sqlite', path: sqliteStorePath(dataDir) } : parseStoreTarget(value);
}

/** Opens (creating and migrating if needed) the store at a URL, a file path, or a parsed target. */
export async function openLineageStore(target: string | LineageStoreTarget): Promise<LineageStore> {
  const t = typeof target === 'string' ? parseStoreTarget(target, 'store location') : target;
  if (t.kind === 'sqlite') return SqliteLineageStore.open(t.path);
  // Loaded only when used: `pg` and its dependencies are ~10 % of a no-op CLI start on SQLite.
  const { PostgresLineageStore } = await import('./postgres/postgres-store.ts');
  return PostgresLineageStore.open(t.url);
}
