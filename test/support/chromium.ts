import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../dev/processes';

/**
 * Chromium for the browser tests and the scale-out bench, driven by playwright-core: the
 * system's Chromium (never a downloaded one), trusting no certificate beyond the system's, like
 * a person's browser. It meets the Entra emulator only at its plain-http front door on
 * localhost; the emulator's self-signed https port is for the app's server-side calls.
 */

export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** Where screenshots meant for a person go (git-ignored). */
export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, 'test-results', 'screenshots');

/** `CHROME_PATH`, else /usr/bin/chromium; throws a message that says how to get one. */
export function chromiumPath(): string {
  const candidate = process.env.CHROME_PATH || DEFAULT_CHROMIUM_PATH;
  try {
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    throw new Error(
      `Chromium was not found at ${candidate}. The browser tests need it: on Debian/Ubuntu run ` +
        '"sudo apt-get update && sudo apt-get install -y chromium", or set CHROME_PATH to a ' +
        'Chromium or Chrome executable.',
    );
  }
}

/**
 * Launches headless Chromium; each test takes fresh user data with browser.newContext(). No
 * certificate flag: a page that reached the emulator's https port would fail to load.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
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

/** A file name under SCREENSHOT_DIR, the folder created on the way. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}
