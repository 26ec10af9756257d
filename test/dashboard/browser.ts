// Debian's chromium, headless, driven by playwright-core (never a downloaded browser), with a fresh profile.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, tmpDir } from '../helpers/env.js';

export const CHROMIUM = process.env.HEA_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'dashboard');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does it)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launchPersistentContext(tmpDir('hea-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor: 1,
    // The home's zone, as its owner's browser would be (times without one are shown in the browser's).
    timezoneId: 'Europe/Stockholm',
  });
}

/** Every console error and uncaught exception of a page, for the test to assert there are none. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => errors.push(`request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`));
  return errors;
}

export interface ChartRecord {
  points: number;
  series: Record<string, number>;
}

/** Opens a view and waits until it is drawn; returns what its charts recorded. */
export async function openView(page: Page, url: string): Promise<Record<string, ChartRecord>> {
  await page.goto(url);
  // Strings run in the page (this file is compiled without the DOM's types).
  await page.waitForFunction("document.body.dataset.ready === 'true'", undefined, { timeout: 30_000 });
  return (await page.evaluate('JSON.parse(JSON.stringify(window.__charts))')) as Record<string, ChartRecord>;
}

export async function screenshot(page: Page, name: string, path = join(ARTIFACTS, `${name}.png`)): Promise<string> {
  await page.screenshot({ path, fullPage: true });
  return path;
}
