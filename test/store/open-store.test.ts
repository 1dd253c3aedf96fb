// LINEAGE_STORE selects the store: a PostgreSQL URL, else the SQLite file under DATA_DIR;
// anything else is refused with a message that says what to write (and never shows a password).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join, resolve } from 'node:path';
import { isRuntimeError } from '../../runtime/errors.ts';
import { openLineageStore, parseStoreTarget, storeTargetFromEnv } from '../../runtime/store/open-store.ts';

test('unset: the SQLite file under DATA_DIR, as before', () => {
  assert.equal(storeTargetFromEnv({}, 'data'), { kind: 'sqlite', path: join(resolve('data'), 'store', 'lineage.sqlite') });
});

test('postgres:// and postgresql:// URLs select PostgreSQL', () => {
  assert.equal(storeTargetFromEnv({ LINEAGE_STORE: 'postgres://app:secret@db.internal:5432/lineage' }, 'data'), {
    kind: 'postgres',
    url: 'postgres://app:secret@db.internal:5432/lineage',
  });
  assert.is(parseStoreTarget('postgresql://db/lineage').kind, 'postgres');
});

test('another scheme, an empty value or a malformed URL is refused, naming LINEAGE_STORE, without the password', () => {
  for (const [value, pattern] of [
    ['mysql://app:secret@db/lineage', /LINEAGE_STORE=mysql:\/\/\*\*\*@db\/lineage is not a store this runtime knows: use postgres:\/\//],
    ['  ', /LINEAGE_STORE is empty/],
    ['postgres://app:secret@', /LINEAGE_STORE=.* is not a valid PostgreSQL URL: write postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE/],
  ] as const) {
    try {
      storeTargetFromEnv({ LINEAGE_STORE: value }, 'data');
      assert.unreachable(`${value} accepted`);
    } catch (err) {
      assert.ok(isRuntimeError(err, 'store-config'), String(err));
      assert.match((err as Error).message, pattern);
      assert.not.match((err as Error).message, /secret/);
    }
  }
});

test('a PostgreSQL server that does not answer: a connection error naming the store without its password', async () => {
  // Port 1 on loopback: nothing listens there.
  await openLineageStore('postgres://app:secret@127.0.0.1:1/lineage').then(
    () => assert.unreachable('connected to nothing'),
    (err: Error) => {
      assert.ok(isRuntimeError(err, 'store-connection'));
      assert.match(err.message, /Cannot connect to the lineage store postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/lineage: .*Check LINEAGE_STORE/);
      assert.not.match(err.message, /secret/);
    },
  );
});

test.run();
