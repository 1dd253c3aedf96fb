// The server's log destination hands pino's lines to sonic-boom a batch at a time: every line
// reaches the file, in order, whether a batch filled up, the periodic flush pushed a partial
// one out, or the process flushed synchronously before exiting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { BatchedDestination } from '../../serving/log-destination.ts';
import { tempDir } from '../support/tmp.ts';

const open = (path: string) => new BatchedDestination(pino.destination({ dest: path, sync: false, minLength: 4096 }));
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);

test('every line of a burst of access lines reaches the file in order, the last partial batch at flushSync', async () => {
  const path = join(tempDir('log-destination'), 'server.log');
  const destination = open(path);
  const log = pino({ base: null }, destination);
  await new Promise<void>((resolve) => destination.target.once('ready', () => resolve()));
  for (let i = 0; i < 5_000; i++) log.info({ requestId: `r${i}`, status: 200 }, 'request');
  destination.flushSync();
  const written = lines(path).map((l) => (JSON.parse(l) as { requestId: string }).requestId);
  assert.is(written.length, 5_000);
  assert.equal(
    written,
    Array.from({ length: 5_000 }, (_, i) => `r${i}`),
  );
});

test('a line short of a batch waits for the flush, and the flush writes it', async () => {
  const path = join(tempDir('log-destination'), 'quiet.log');
  const destination = open(path);
  await new Promise<void>((resolve) => destination.target.once('ready', () => resolve()));
  destination.write('{"msg":"starting"}\n');
  assert.equal(lines(path), [], 'held until a batch fills or a flush');
  await new Promise<void>((resolve, reject) => destination.flush((err) => (err ? reject(err) : resolve())));
  assert.equal(lines(path), ['{"msg":"starting"}']);
});

test.run();
