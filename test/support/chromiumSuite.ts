import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import {
  startScaledProject,
  userButton,
  waitForEmulatorLogin,
  type ScaledApp,
  type ScaledAppOptions,
  type TestUser,
} from './scaleOut';

/**
 * The set-up every Chromium test file of the project shares: the app behind a random load
 * balancer and Chromium started once, the browser contexts a test opened closed after it, both
 * stopped at the end. Call it at the top level of a test file; use what it gives inside tests.
 */
export interface ChromiumSuite {
  readonly app: ScaledApp;
  readonly browser: Browser;
  /** A fresh browser profile (no cookies, no emulator session), closed after the test. */
  newContext(): Promise<BrowserContext>;
  newPage(): Promise<Page>;
  /** Picks the user on the emulator's account picker and waits for the app to answer. */
  pickUser(page: Page, user: TestUser): Promise<void>;
}

export function chromiumSuite(options: ScaledAppOptions): ChromiumSuite {
  let app: ScaledApp | undefined;
  let browser: Browser | undefined;
  let contexts: BrowserContext[] = [];
  beforeAll(async () => {
    app = await startScaledProject(options);
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    contexts = [];
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (!value) throw new Error(`${what} is not started yet: use it inside a test or a hook`);
    return value;
  };
  const suite: ChromiumSuite = {
    get app() {
      return started(app, 'the app');
    },
    get browser() {
      return started(browser, 'Chromium');
    },
    async newContext() {
      const context = await suite.browser.newContext();
      contexts.push(context);
      return context;
    },
    async newPage() {
      return (await suite.newContext()).newPage();
    },
    async pickUser(page, user) {
      await waitForEmulatorLogin(page, suite.app.emulatorOrigin, user);
      await userButton(page, user).click();
      await page.waitForURL((u) => u.origin === suite.app.appOrigin);
    },
  };
  return suite;
}
