/**
 * A real headless Chromium for the Web UI test: Debian's own build at /usr/bin/chromium, driven by playwright-core
 * (which never downloads a browser). `.ci/run` installs it with apt when it is missing.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PARLEY_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where screenshots go; CI keeps this folder as test artifacts. */
export const ARTIFACTS_DIR = path.resolve(__dirname, '../../test-artifacts');

/**
 * Why Chromium cannot run here, or undefined when it can. Checked before any test starts, so a machine without it
 * skips the browser tests with this reason in their title rather than failing them.
 */
export function chromiumProblem(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    return `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`;
  }
  try {
    execFileSync(CHROMIUM, ['--version'], { timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const reason = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n')[0] ?? (error as Error).message;
    return `${CHROMIUM} --version fails: ${reason}`;
  }
  return undefined;
}

/**
 * Headless Chromium with nothing of its own going on: no background networking, updates, sync or QUIC. Playwright
 * gives every launch a fresh temporary profile and removes it on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot as `test-artifacts/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
