// Deterministic data versions: the same inputs and code give the same data version for every
// asset. The pipeline is materialized twice, into two fresh stores, on a reduced range, and
// every current partition of every asset is compared. A value that carries something varying
// (a duration, a timestamp, an absolute path) would make downstream recompute for nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openLineageStore, sqliteStorePath } from '../../runtime/store/open-store.ts';
import { runCli } from '../support/cli.ts';
import { tempDir } from '../support/tmp.ts';

const range = { PJM_START: '2016-09-15', PJM_END: '2017-01-02' };

async function dataVersions(label: string): Promise<Map<string, string>> {
  const dir = tempDir(label);
  const r = await runCli(['--json'], { ...range, DATA_DIR: dir });
  assert.is(r.code, 0, r.stderr + r.stdout.slice(-2000));
  const store = await openLineageStore(sqliteStorePath(dir));
  const snapshot = await store.snapshot();
  await store.close();
  return new Map([...snapshot].flatMap(([asset, byPartition]) => [...byPartition].map(([p, c]) => [`${asset}[${p}]`, c.dataVersion] as const)));
}

test('two materializations of the pipeline into fresh stores give every asset the same data version', async () => {
  const first = await dataVersions('determinism-a');
  const second = await dataVersions('determinism-b');
  assert.ok(first.size > 300, `${first.size} current partitions`);
  assert.equal([...second.keys()].sort(), [...first.keys()].sort());
  const differing = [...first].filter(([k, v]) => second.get(k) !== v).map(([k]) => k);
  assert.equal(differing, [], `these differ between the two runs: ${differing.join(', ')}`);
});

test.run();
