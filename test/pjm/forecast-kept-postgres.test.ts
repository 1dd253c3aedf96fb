// pjm/forecast keeps its forecast and pjm/forecast_score scores it on the PostgreSQL store,
// as on the EKS overlay: each run in a process with a scratch DATA_DIR of its own (a worker's),
// sharing only the store and the asset storage. The kept forecasts live in the store, so the
// second process scores what the first kept (the story: helpers/forecast-kept-story.ts).
import { join } from 'node:path';
import { suite } from 'uvu';
import { openLineageStore } from '../../runtime/index.ts';
import { LocalStorage } from '../../runtime/storage/local.ts';
import { startPostgres, type PostgresCluster } from '../support/postgres.ts';
import { tempDir } from '../support/tmp.ts';
import { forecastKeptStory } from './helpers/forecast-kept-story.ts';

const test = suite('served forecasts kept and scored on PostgreSQL, one scratch DATA_DIR per process');
let cluster: PostgresCluster;
let url: string;
// What the processes share besides the store (S3 on EKS; a directory here).
const shared = join(tempDir('forecast-kept-pg-storage'), 'assets');

test.before(async () => {
  cluster = await startPostgres();
  url = await cluster.createDatabase('forecast_kept');
});
test.after(() => cluster.stop());

forecastKeptStory(test, async (run) => ({
  dataDir: tempDir(`forecast-kept-pg-${run}`),
  store: await openLineageStore(url),
  storage: new LocalStorage(shared),
}));

test.run();
