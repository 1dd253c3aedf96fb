// The lineage store contract (contract.ts) on the PostgreSQL store: a real throwaway
// cluster (test/support/postgres.ts), one new database per test.
import { PG_SCHEMA_VERSION } from '../../runtime/store/postgres/schema.ts';
import { execOn, startPostgres } from '../support/postgres.ts';
import { storeContract } from './contract.ts';

storeContract('PostgreSQL', async () => {
  const cluster = await startPostgres();
  return {
    fresh: (label) => cluster.createDatabase(label),
    bumpSchemaVersion: (url) => execOn(url, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from a newer runtime')`, [PG_SCHEMA_VERSION + 1]),
    exec: execOn,
    teardown: async () => cluster.stop(),
  };
});
