import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshotPath } from '../support/chromium';
import { startMultiTenantApp, type MultiTenantApp } from '../support/multiTenantApp';
import {
  countAuthRequests,
  userButton,
  waitForEmulatorLogin,
  type TestUser,
} from '../support/scaleOut';

/**
 * Two tenants in Chromium: the app at the emulator's `organizations` authority, allowing only
 * Contoso. A Contoso user signs in; a Fabrikam user sees tenant_not_allowed, once, no loop.
 */

jest.setTimeout(120_000);

const ADELE = { username: 'adele.vance@contoso.dev', name: 'Adele Vance' } as unknown as TestUser;
const PRADEEP = {
  username: 'pradeep.gupta@fabrikam.dev',
  name: 'Pradeep Gupta',
} as unknown as TestUser;

let app: MultiTenantApp;
let browser: Browser;

beforeAll(async () => {
  app = await startMultiTenantApp();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function signIn(user: TestUser): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app.appOrigin}/api/auth/login?returnTo=%2Fapi%2Fauth%2Fme`);
  await waitForEmulatorLogin(page, app.emulator.browserOrigin, user);
  await userButton(page, user).click();
  await page.waitForURL((u) => u.origin === app.appOrigin);
  await page.waitForLoadState();
  return page;
}

describe('two tenants in Chromium (organizations authority)', () => {
  it('when a user of the allowed tenant signs in, then she is signed in with her tenant', async () => {
    const page = await signIn(ADELE);
    expect(new URL(page.url()).pathname).toBe('/api/auth/me');
    const me = JSON.parse(await page.locator('body').innerText()) as {
      user: { tid: string; name: string };
    };
    expect(me.user).toMatchObject({ name: 'Adele Vance', tid: app.emulator.tenantId });
    await page.context().close();
  });

  it('when a user of another tenant signs in, then the page says tenant_not_allowed, after one sign-in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const requests = countAuthRequests(page);
    const authorizeRequests: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (url.pathname.endsWith('/oauth2/v2.0/authorize')) authorizeRequests.push(url.pathname);
    });
    await page.goto(`${app.appOrigin}/api/auth/login?returnTo=%2Fapi%2Fauth%2Fme`);
    await waitForEmulatorLogin(page, app.emulator.browserOrigin, PRADEEP);
    await userButton(page, PRADEEP).click();
    await page.waitForURL((u) => u.origin === app.appOrigin);
    await page.locator('#reason-code').waitFor();
    expect(await page.locator('#reason-code').innerText()).toBe('tenant_not_allowed');
    expect(await page.locator('body').innerText()).toContain(
      'Your organisation is not allowed to use this app',
    );
    expect(authorizeRequests).toEqual(['/organizations/oauth2/v2.0/authorize']);
    expect(requests).toEqual({ login: 1, callback: 1 });
    const me = await page.evaluate(async () => (await fetch('/api/auth/me')).status);
    expect(me).toBe(401);
    await page.screenshot({ path: screenshotPath('tenant-not-allowed'), fullPage: true });
    await context.close();
  });
});
