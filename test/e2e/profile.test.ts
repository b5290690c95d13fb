import type { Browser } from 'playwright-core';
import { launchChromium, screenshotPath } from '../support/chromium';
import {
  startScaledProject,
  TEST_USERS,
  userButton,
  waitForEmulatorLogin,
  type ScaledApp,
} from '../support/scaleOut';

/**
 * The demo's profile call in Chromium, through two instances behind a random load balancer:
 * sign in from the demo page (no Graph scope yet), follow the profile link, consent is asked
 * for through a sign-in round trip, and the page shows what Graph (the emulator) said.
 */

jest.setTimeout(120_000);

const [ADELE] = TEST_USERS;
let app: ScaledApp;
let browser: Browser;

beforeAll(async () => {
  app = await startScaledProject({ instances: 2 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('the demo calls Microsoft Graph as the user', () => {
  it('when a signed-in user follows the profile link, then consent is asked through a sign-in and the profile from Graph is shown', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${app.appOrigin}/api/demo`);
    await page.locator('#status[data-state="signed-out"]').waitFor();
    await page.click('#sign-in');
    await waitForEmulatorLogin(page, app.emulatorOrigin, ADELE!);
    await userButton(page, ADELE!).click();
    await page.locator('#status[data-state="signed-in"]').waitFor();

    const logins: URL[] = [];
    page.on('request', (r) => {
      const requested = new URL(r.url());
      if (requested.pathname === '/api/auth/login') logins.push(requested);
    });
    await page.click('#profile-link');
    await page.locator('#profile-title').waitFor();
    expect(page.url()).toBe(`${app.appOrigin}/api/profile`);
    expect(await page.locator('[data-field="displayName"]').innerText()).toBe('Adele Vance');
    expect(await page.locator('[data-field="userPrincipalName"]').innerText()).toBe(
      ADELE!.username,
    );
    // Incremental consent: one sign-in round trip asking for Graph's User.Read, no login page.
    expect(logins.map((l) => l.searchParams.get('scope'))).toEqual(['User.Read']);
    expect(await page.content()).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
    await page.screenshot({ path: screenshotPath('demo-profile'), fullPage: true });
    await context.close();
  });
});
