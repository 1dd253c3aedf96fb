// Graceful shutdown as Kubernetes does it: the server runs as its own process
// (`materialize serve`), gets SIGTERM while a request is still arriving, finishes that
// request, refuses new connections, and exits 0. Its logs are JSON lines with request ids
// and never show the API token.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startCli } from '../support/cli.ts';
import { COMED, GOOD_DAY, materializeMini, openMini } from './support/server.ts';

const DEFINITIONS = fileURLToPath(new URL('./support/mini-pjm.ts', import.meta.url));
const TOKEN = 'tok-do-not-log-0123456789';

test('SIGTERM during a slow request: the request completes, then the process exits 0', async () => {
  const instance = await openMini();
  await materializeMini(instance);
  await instance.close();

  const { child, done } = startCli(['serve', '--port', '0', '--host', '127.0.0.1'], {
    DATA_DIR: instance.dataDir,
    ASSET_DEFINITIONS: DEFINITIONS,
    SERVING_API_TOKEN: TOKEN,
    LOG_LEVEL: 'info',
    OMP_WAIT_POLICY: 'passive',
  });
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 20 s:\n${stdout}`)), 20_000);
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening:\n${stdout}`)));
  });

  // Fully up first (model loaded, warm-up over): on a loaded machine a request sent earlier could
  // still be unread by the server when SIGTERM comes, and an idle connection is closed at once.
  for (
    let i = 0;
    i < 120 &&
    !(await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  )
    await new Promise((r) => setTimeout(r, 250));

  // A request whose body arrives in two parts, SIGTERM in between.
  const body = JSON.stringify({ node: COMED, market: 'da', date: GOOD_DAY });
  const half = Math.floor(body.length / 2);
  let sentSecondHalf = false;
  const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      `${url}/predict`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          authorization: `Bearer ${TOKEN}`,
          'x-request-id': 'slow-1',
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.write(body.slice(0, half));
    setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(async () => {
        // While draining, new connections are refused.
        const refused = await fetch(`${url}/health`).then(
          () => false,
          () => true,
        );
        assert.ok(refused, 'a new connection during the drain is refused');
        sentSecondHalf = true;
        req.end(body.slice(half));
      }, 500);
    }, 1_000);
  });

  const r = await reply;
  assert.ok(sentSecondHalf);
  assert.is(r.status, 200, r.text);
  assert.is(JSON.parse(r.text).forecasts.length, 24);
  const exit = await done;
  assert.is(exit.code, 0, exit.stderr);
  assert.is(exit.signal, null);

  const lines = exit.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const access = lines.find((l) => l['requestId'] === 'slow-1' && l['msg'] === 'request');
  assert.ok(access, 'an access-log line with the request id');
  assert.is(access!['status'], 200);
  assert.ok(lines.some((l) => l['msg'] === 'draining in-flight requests before exit'));
  assert.ok(lines.some((l) => l['msg'] === 'stopped' && l['drained'] === true));
  assert.not.ok((exit.stdout + exit.stderr).includes(TOKEN), 'the token never appears in the logs');
});

test.run();
