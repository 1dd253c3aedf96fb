// With SERVING_API_TOKEN set, starting a materialization needs the token;
// reading the UI's pages and data does not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser, newPage } from './helpers/browser.ts';
import { demoDefinitions } from './helpers/defs.ts';
import { openInstance, startUiServer } from './helpers/server.ts';

test('POST /api/materialize needs the bearer token when auth is on; GETs stay open', async () => {
  const srv = await startUiServer(await openInstance(demoDefinitions()), { apiToken: 'sesame-123' });
  try {
    const post = (headers: Record<string, string>) =>
      fetch(`${srv.url}/api/materialize`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ selection: 'demo/readings', mode: 'stale-only' }),
      });
    const none = await post({});
    assert.is(none.status, 401);
    assert.is(((await none.json()) as any).error.code, 'unauthorized');
    assert.is((await post({ Authorization: 'Bearer wrong' })).status, 401);
    const ok = await post({ Authorization: 'Bearer sesame-123' });
    assert.is(ok.status, 202);
    assert.is((await fetch(`${srv.url}/api/graph`)).status, 200);
    const page = await fetch(`${srv.url}/`);
    assert.is(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/ui\/app.js">/);
    // Wait for the run to finish before the store closes.
    const started = (await ok.json()) as any;
    await (await fetch(`${srv.url}${started.links.stream}`)).text();
  } finally {
    await srv.stop();
  }
});

test('with auth on, the UI asks for the token once, then starts the run', async () => {
  const srv = await startUiServer(await openInstance(demoDefinitions()), { apiToken: 'sesame-123' });
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser);
    const prompts: string[] = [];
    page.on('dialog', (d) => {
      prompts.push(d.message());
      void d.accept('sesame-123');
    });
    await page.goto(`${srv.url}/#/assets/${encodeURIComponent('demo/readings')}`);
    await page.click('button[data-mode="stale-only"]');
    await page.locator('[data-testid=run-progress] [data-testid=run-status] >> text=succeeded').waitFor({ timeout: 20_000 });
    assert.is(prompts.length, 1);
    assert.match(prompts[0]!, /API token/);
    const firstRun = await page.getAttribute('[data-testid=run-progress] a[href^="#/runs/"]', 'href');
    // The token is kept: a second run does not ask again.
    await page.waitForSelector('button[data-mode="force"]:not([disabled])');
    await page.click('button[data-mode="force"]');
    await page.waitForFunction(
      (first) => {
        const link = document.querySelector('[data-testid=run-progress] a[href^="#/runs/"]');
        const status = document.querySelector('[data-testid=run-progress] [data-testid=run-status]');
        return link && link.getAttribute('href') !== first && status?.textContent === 'succeeded';
      },
      firstRun,
      { timeout: 20_000 },
    );
    assert.is(prompts.length, 1);
    const { runs } = (await (await fetch(`${srv.url}/api/runs`)).json()) as any;
    assert.equal(
      runs.map((r: any) => [r.trigger, r.status]),
      [
        ['ui', 'succeeded'],
        ['ui', 'succeeded'],
      ],
    );
    assert.is(await page.innerText('[data-testid=asset-status]'), 'fresh');
  } finally {
    await browser.close();
    await srv.stop();
  }
});

test('static files: modules are served with their type, anything outside ui/ is not', async () => {
  const srv = await startUiServer(await openInstance(demoDefinitions()));
  try {
    const js = await fetch(`${srv.url}/ui/layout.js`);
    assert.is(js.status, 200);
    assert.is(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const etag = js.headers.get('etag')!;
    assert.is((await fetch(`${srv.url}/ui/layout.js`, { headers: { 'If-None-Match': etag } })).status, 304);
    for (const path of ['/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/missing.js']) {
      assert.is((await fetch(`${srv.url}${path}`)).status, 404, path);
    }
  } finally {
    await srv.stop();
  }
});

test.run();
