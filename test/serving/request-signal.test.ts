// The request's abort signal (serving/http/middleware/timeout.ts) over real HTTP on
// loopback: aborted when the client leaves before the answer or the deadline passes, and
// not when the answer was sent in full (its connection's ordinary 'close' is no abort).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { requestTimeout } from '../../serving/http/middleware/timeout.ts';
import { HttpError } from '../../serving/http/errors.ts';

async function serve(handler: (ctx: Koa.Context) => Promise<void> | void, timeoutMs = 5_000): Promise<{ url: string; server: Server }> {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      ctx.status = err instanceof HttpError ? err.status : 500;
      ctx.body = { error: err instanceof HttpError ? err.code : String(err) };
    }
  });
  app.use(requestTimeout(timeoutMs));
  app.use(handler);
  const server = createServer(app.callback());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

test('a request answered in full leaves its signal unaborted, also after its response closed', async () => {
  const signals: AbortSignal[] = [];
  const { url, server } = await serve((ctx) => {
    signals.push(ctx.state.signal as AbortSignal);
    ctx.body = { ok: true };
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal(await (await fetch(url)).json(), { ok: true });
    await settle();
    assert.is(signals.length, 3);
    for (const s of signals) assert.not.ok(s.aborted, `aborted after a full answer: ${String(s.reason)}`);
  } finally {
    server.close();
  }
});

test('a client leaving before the answer aborts the signal, saying the connection closed', async () => {
  let signal: AbortSignal | undefined;
  const { url, server } = await serve(async (ctx) => {
    signal = ctx.state.signal as AbortSignal;
    await new Promise((resolve) => setTimeout(resolve, 300));
    ctx.body = 'late';
  });
  try {
    const client = new AbortController();
    const pending = fetch(url, { signal: client.signal }).catch((e: unknown) => e);
    while (!signal) await settle();
    client.abort();
    await pending;
    await settle();
    assert.ok(signal.aborted);
    assert.instance(signal.reason, HttpError);
    assert.match((signal.reason as HttpError).message, /connection closed before the answer was ready/);
  } finally {
    server.close();
  }
});

test('the deadline answers 503 request_timeout and aborts the signal a handler asks for afterwards too', async () => {
  let asked: AbortSignal | undefined;
  const { url, server } = await serve(async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    asked = ctx.state.signal as AbortSignal;
  }, 50);
  try {
    const response = await fetch(url);
    assert.is(response.status, 503);
    assert.equal(await response.json(), { error: 'request_timeout' });
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.ok(asked?.aborted, 'a signal read after the deadline is already aborted');
    assert.is((asked!.reason as HttpError).code, 'request_timeout');
  } finally {
    server.close();
  }
});

test.run();
