// Headless Chromium (Debian's `chromium`, driven by playwright-core) for the UI
// tests and the benchmark, and screenshots saved under test-artifacts/ui/.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../../../test-artifacts/ui');

export async function launchBrowser(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    });
  } catch (err) {
    throw new Error(
      `Cannot start headless Chromium at ${CHROMIUM_PATH}: ${(err as Error).message.split('\n')[0]}. Install it with "apt-get install -y chromium" or set CHROMIUM_PATH.`,
    );
  }
}

export async function newPage(browser: Browser, width = 1400, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  (page as Page & { uiErrors: string[] }).uiErrors = errors;
  return page;
}

/** Errors the page logged or threw (a test asserts there are none). */
export const pageErrors = (page: Page): string[] => (page as Page & { uiErrors?: string[] }).uiErrors ?? [];

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
