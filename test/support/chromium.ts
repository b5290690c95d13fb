import { createHash, X509Certificate } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { PROJECT_ROOT } from '../../dev/processes';

/**
 * Chromium for the browser tests and the scale-out bench, driven by playwright-core: the
 * system's Chromium (never a downloaded one), trusting exactly the emulator's self-signed
 * certificate and nothing else.
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
 * The base64 SHA-256 of a certificate's SubjectPublicKeyInfo: the form Chromium's
 * `--ignore-certificate-errors-spki-list` takes. Chromium ignores NODE_EXTRA_CA_CERTS.
 */
export function spkiFingerprint(certificatePem: string | Buffer): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({
    type: 'spki',
    format: 'der',
  });
  return createHash('sha256').update(spki).digest('base64');
}

export interface LaunchOptions {
  /** PEM certificates to trust (the emulator's); nothing else is trusted beyond the system's. */
  trust?: (string | Buffer)[];
  /** Paths of PEM files to trust, read here. */
  trustPaths?: string[];
}

/** Launches headless Chromium; each test takes fresh user data with browser.newContext(). */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const certificates = [
    ...(options.trust ?? []),
    ...(options.trustPaths ?? []).map((p) => readFileSync(p)),
  ];
  const spkiList = certificates.map(spkiFingerprint);
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
      ...(spkiList.length > 0
        ? [`--ignore-certificate-errors-spki-list=${spkiList.join(',')}`]
        : []),
    ],
  });
}

/** A file name under SCREENSHOT_DIR, the folder created on the way. */
export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name}.png`);
}
