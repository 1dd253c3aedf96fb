// The end-of-run warning summary: non-blocking checks that did not pass, one line per asset and
// check with how many partitions and which; passed and blocking checks are not warnings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkWarnings } from '../../runtime/cli/check-warnings.ts';
import type { RunEvent } from '../../runtime/events.ts';

const check = (asset: string, partition: string, name: string, passed: boolean, blocking: boolean, message: string): RunEvent =>
  ({ type: 'check_evaluated', runId: 'r', ts: 0, asset, partition, check: name, passed, blocking, message }) as RunEvent;

test('grouped by asset and check, partitions counted and spanned, the first message quoted', () => {
  const w = checkWarnings();
  for (const day of ['2025-05-03', '2025-05-01', '2025-05-02']) w.onEvent(check('load', day, 'load_feed', false, false, `no load feed (${day})`));
  w.onEvent(check('load', '2025-05-01', 'schema', true, true, ''));
  w.onEvent(check('prices', 'A|2025-05-01', 'range', false, true, 'blocked, not a warning'));
  w.onEvent(check('model', '', 'drift', false, false, 'drifted'));
  assert.equal(w.summary(), [
    '  ! load: check load_feed warned on 3 partitions (2025-05-01 … 2025-05-03): 2025-05-03: no load feed (2025-05-03)',
    '  ! model: check drift warned: drifted',
  ]);
  assert.equal(checkWarnings().summary(), [], 'nothing warned, nothing printed');
});

test.run();
