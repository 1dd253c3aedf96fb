// A truncated validated Parquet file under a running server: /predict for a day whose inputs
// are intact still answers (the node directory does not need every recent day to read); a day
// that needs the bad file gets a 503 naming it; the file is marked corrupt in the store, so
// /ready reports the server degraded and names it; a run rewrites it and all is well again.
import { readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { call, eventually, GOOD_DAY, materializeMini, openMini, startTestServer } from './support/server.ts';

const BAD_DAY = '2016-12-05';

test('a corrupt validated day: other days are served, days needing it get a 503 naming it, /ready is degraded, a run repairs it', async () => {
  const instance = await openMini();
  await materializeMini(instance);
  const folder = join(instance.dataDir, 'assets', 'pjm', 'validated', 'prices', BAD_DAY);
  truncateSync(join(folder, readdirSync(folder).find((f) => f.endsWith('.parquet'))!), 200);
  const server = await startTestServer(instance, { warmupMs: 0 });
  try {
    const good = await call(server.url, 'POST', '/predict', { body: { node: 'COMED', market: 'da', date: GOOD_DAY } });
    assert.is(good.status, 200, `a day whose inputs are intact is served: ${good.text}`);

    const bad = await call(server.url, 'POST', '/predict', { body: { node: 'COMED', market: 'da', date: '2016-12-06' } });
    assert.is(bad.status, 503, bad.text);
    assert.is(bad.json.error.code, 'input_corrupt');
    assert.match(bad.json.error.message, /needs pjm\/validated\/prices\[2016-12-05\] \(its file hashes to \w+, not to its data version \w+\)/);

    await eventually(async () => (await call(server.url, 'GET', '/ready')).status === 503, 5_000, '/ready to report degraded');
    const ready = await call(server.url, 'GET', '/ready');
    assert.is(ready.json.error.code, 'degraded');
    assert.match(ready.json.error.message, /pjm\/validated\/prices\[2016-12-05\]/);
    const status = (await instance.status('pjm/validated/prices'))[0]!;
    assert.is(status.corrupt, 1, 'the store knows');
    assert.match(status.causes.map((c) => c.text).join('\n'), /stored file is corrupt.*found by the server reading it/);

    await materializeMini(instance);
    await eventually(async () => (await call(server.url, 'GET', '/ready')).status === 200, 5_000, '/ready to recover');
    const repaired = await call(server.url, 'POST', '/predict', { body: { node: 'COMED', market: 'da', date: '2016-12-06' } });
    assert.is(repaired.status, 200, repaired.text);
  } finally {
    await server.stop();
    await instance.close();
  }
});

test.run();
