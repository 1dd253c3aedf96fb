// lib/wakeup.ts: a poll loop's sleep that a notification ends early.
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Wakeup } from '../../lib/wakeup.ts';

/** Whether `p` has settled after the pending callbacks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await tick();
  return done;
}

test('wake() ends the sleep in progress; without it the sleep waits', async () => {
  const w = new Wakeup();
  const long = w.sleep(60_000);
  assert.is(await settled(long), false, 'still sleeping before the wake');
  w.wake();
  assert.is(await settled(long), true, 'ended by the wake, long before its 60 s');
});

test('a wake while nothing sleeps is dropped; the next sleep ends at its own time or its own wake', async () => {
  const w = new Wakeup();
  w.wake();
  const next = w.sleep(60_000);
  assert.is(await settled(next), false, 'the earlier wake did not end a later sleep');
  w.wake();
  assert.is(await settled(next), true);
  // After its timer the sleep is over, and a later wake touches nothing.
  await w.sleep(1);
  w.wake();
});

test.run();
