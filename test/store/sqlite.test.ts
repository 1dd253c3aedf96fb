// The lineage store contract (contract.ts) on the SQLite store: a file in a temporary directory.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../../runtime/store/schema.ts';
import { tempDir } from '../support/tmp.ts';
import { storeContract } from './contract.ts';

storeContract('SQLite', async () => {
  const root = tempDir('store-contract');
  return {
    fresh: async (label) => join(root, label, 'lineage.sqlite'),
    async bumpSchemaVersion(path) {
      const db = new Database(path);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
    },
    async exec(path, sql) {
      const db = new Database(path);
      db.exec(sql);
      db.close();
    },
    teardown: async () => undefined,
  };
});
