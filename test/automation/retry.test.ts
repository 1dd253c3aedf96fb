// A claimed run request whose run failed is retried on later ticks, a bounded number of times,
// each attempt recorded in the tick (which retry, after which failed run); then it is given up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Instance, defineAsset, defineDefinitions, materialize, type AssetDefinition } from '../../runtime/index.ts';
import { MAX_REQUEST_RETRIES, runTick } from '../../runtime/automation/tick.ts';
import { tempDir } from '../support/tmp.ts';

let failing = true;
let attempts = 0;
const defs = defineDefinitions({
  assets: [
    defineAsset({ key: 'source', codeVersion: '1', materialize: () => ({ value: 1 }) }),
    defineAsset({
      key: 'derived',
      deps: ['source'],
      codeVersion: '1',
      automation: { kind: 'eager' },
      materialize: () => {
        attempts++;
        if (failing) throw new Error('the upstream service answered 503');
        return { value: 2 };
      },
    }),
  ] as AssetDefinition<unknown>[],
});

test(`a failed eager request is retried ${MAX_REQUEST_RETRIES} times, each recorded in the tick, then given up`, async () => {
  const instance = await Instance.open(defs, { dataDir: tempDir('auto-retry') });
  try {
    await materialize(instance, { selection: 'source' });
    const outcomes: string[] = [];
    for (let i = 0; i < MAX_REQUEST_RETRIES + 2; i++) {
      const r = await runTick(instance, { daemonId: 'd1' });
      const req = r.ticks.find((t) => t.kind === 'policy')!.requested[0]!;
      outcomes.push(`${req.outcome}${req.detail ? `: ${req.detail.replace(/run \d{8}T\d{6}-[0-9a-f]{6}/g, 'run R')}` : ''}`);
    }
    assert.equal(outcomes, [
      'launched',
      'launched: retry 1 of 2: run R failed',
      'launched: retry 2 of 2: run R failed',
      'exhausted: its run failed 3 times (last: run R); not requested again',
    ]);
    assert.is(attempts, 3);
    // What the store kept says the same (materialize ticks shows it).
    const kept = (await instance.store.listTicks({ kind: 'policy', limit: 1 }))[0]!;
    assert.is(kept.requested[0]!.outcome, 'exhausted');
  } finally {
    await instance.close();
  }
});

test('a retry that succeeds ends the retries: the next tick is a duplicate of it', async () => {
  const instance = await Instance.open(defs, { dataDir: tempDir('auto-retry-ok') });
  failing = true;
  attempts = 0;
  try {
    await materialize(instance, { selection: 'source' });
    await runTick(instance, { daemonId: 'd1' });
    failing = false;
    const second = (await runTick(instance, { daemonId: 'd1' })).runs[0]!;
    assert.is(second.status, 'succeeded');
    // derived is fresh now: nothing to request at all.
    const third = await runTick(instance, { daemonId: 'd1' });
    assert.equal(third.ticks.find((t) => t.kind === 'policy')?.requested ?? [], []);
    assert.is(attempts, 2);
  } finally {
    await instance.close();
  }
});

test.run();
