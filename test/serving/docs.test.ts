// GET /docs in a real (headless) browser with every non-local request blocked: the Swagger
// UI page loads from the server's own files, lists the operations of /openapi.json and
// expands one to show its request schema, as FastAPI users expect.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chromium } from 'playwright-core';
import { openMini, startTestServer } from './support/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

test('the interactive docs page works offline and shows the predict operations', async () => {
  const server = await startTestServer(await openMini());
  const browser = await chromium
    .launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    .catch((err: Error) => {
      throw new Error(`Cannot start headless Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH): ${err.message.split('\n')[0]}`);
    });
  try {
    const page = await browser.newPage();
    const external: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // A Content-Security-Policy violation is a console error ("Refused to load ...").
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(server.url)) return route.continue();
      external.push(url);
      return route.abort();
    });
    await page.goto(`${server.url}/docs`);
    const predict = page.locator('.opblock-summary-path', { hasText: /^\/predict$/ });
    await predict.first().waitFor({ timeout: 15_000 });
    const paths = await page.locator('.opblock-summary-path').allTextContents();
    for (const p of ['/predict', '/predict/batch', '/predict/features', '/model', '/ready', '/health'])
      assert.ok(
        paths.some((t) => t.replace(/\u200b/g, '') === p),
        `${p} listed`,
      );
    await predict.first().click();
    await page.locator('.opblock-body').first().waitFor({ timeout: 5_000 });
    const body = await page.locator('.opblock-body').first().innerText();
    assert.match(body, /PredictRequest|node|market/);
    assert.equal(external, [], 'no request left the machine');
    assert.equal(errors, []);
    assert.match((await page.request.get(`${server.url}/docs`)).headers()['content-security-policy'] ?? '', /script-src 'self'/);
  } finally {
    await browser.close();
    await server.stop();
    await server.instance.close();
  }
});

test.run();
