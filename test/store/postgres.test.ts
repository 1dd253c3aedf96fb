// The lineage store contract (contract.ts) on the PostgreSQL store: a real throwaway
// cluster (test/support/postgres.ts), one new database per test.
import pg from 'pg';
import { PG_SCHEMA_VERSION } from '../../runtime/store/postgres/schema.ts';
import { startPostgres } from '../support/postgres.ts';
import { storeContract } from './contract.ts';

storeContract('PostgreSQL', async () => {
  const cluster = await startPostgres();
  return {
    fresh: (label) => cluster.createDatabase(label),
    async bumpSchemaVersion(url) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`INSERT INTO schema_migrations (version, name) VALUES ($1, 'from a newer runtime')`, [PG_SCHEMA_VERSION + 1]);
      await client.end();
    },
    async exec(url, sql) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    teardown: async () => cluster.stop(),
  };
});
