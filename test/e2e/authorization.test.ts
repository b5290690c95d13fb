import type { Page } from 'playwright-core';
import { screenshotPath } from '../support/chromium';
import { chromiumSuite } from '../support/chromiumSuite';
import { emulatorControl } from '../support/emulatorControl';
import { countAuthRequests, TEST_USERS, type TestUser } from '../support/scaleOut';

/**
 * Who may do what, in Chromium, through two instances behind a random load balancer: an app
 * role the user lacks (forbidden, never a redirect loop), and a group known only through
 * Microsoft Graph (the emulator's Nestor Wilke, in 250 groups: group overage), Graph up and down.
 */

jest.setTimeout(120_000);

const [ADELE, ALEX] = TEST_USERS as unknown as [TestUser, TestUser];
/** Not in TEST_USERS (the sign-in tests use those): his token carries the overage marker. */
const NESTOR = {
  username: 'nestor.wilke@contoso.dev',
  name: 'Nestor Wilke',
} as unknown as TestUser;

const suite = chromiumSuite({ instances: 2 });
const { newPage } = suite;
let control: ReturnType<typeof emulatorControl>;

beforeAll(() => {
  control = emulatorControl(suite.app.emulatorOrigin);
});
afterEach(async () => {
  await control.setGraphOutage('none');
});

/** Opens an app path signed out, signs in as the user on the emulator, waits for the page. */
async function openAs(page: Page, path: string, user: TestUser): Promise<void> {
  await page.goto(`${suite.app.appOrigin}${path}`);
  await suite.pickUser(page, user);
  await page.waitForURL((u) => u.origin === suite.app.appOrigin && u.pathname === path);
  await page.waitForLoadState();
}

const reasonShown = (page: Page) => page.locator('#reason-code').innerText();

/** A same-origin fetch from the page, as a script of the app would make it. */
function fetchJson(page: Page, path: string): Promise<{ status: number; body: unknown }> {
  return page.evaluate(async (p) => {
    const response = await fetch(p, { headers: { accept: 'application/json' } });
    return { status: response.status, body: await response.json() };
  }, path);
}

describe('authorization in Chromium', () => {
  it('when a user without the Admin role opens /api/admin, then the forbidden page names the role and how to get it, after one sign-in and no loop', async () => {
    const page = await newPage();
    const requests = countAuthRequests(page);
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/api/admin') statuses.push(r.status());
    });
    await openAs(page, '/api/admin', ALEX);
    expect(await reasonShown(page)).toBe('forbidden');
    const text = await page.locator('body').innerText();
    expect(text).toContain('You do not have access to this');
    expect(text).toContain('This needs the app role "Admin"; you have none');
    expect(text).toContain('Ask an administrator to assign you the role');
    await page.reload();
    expect(await reasonShown(page)).toBe('forbidden');
    // One redirect to sign in (signed out), then 403 each time: never back to sign-in.
    expect(requests).toEqual({ login: 1, callback: 1 });
    expect(statuses).toEqual([302, 403, 403]);

    const json = await fetchJson(page, '/api/admin');
    expect(json.status).toBe(403);
    expect(json.body).toMatchObject({ error: 'forbidden', correlationId: expect.any(String) });
    await page.screenshot({ path: screenshotPath('forbidden-admin'), fullPage: true });
  });

  it('when an Admin opens /api/admin, then the admin page', async () => {
    const page = await newPage();
    await openAs(page, '/api/admin', ADELE);
    expect(await page.locator('#admin-greeting').innerText()).toBe(
      'Admin area: welcome, Adele Vance',
    );
    expect((await fetchJson(page, '/api/admin')).status).toBe(200);
  });

  it('when a user in 250 groups (overage) opens a members-only function, then Graph is asked and the page lets him in', async () => {
    const page = await newPage();
    const requests = countAuthRequests(page);
    await openAs(page, '/api/members', NESTOR);
    // The group lookup needs a Graph token: one more sign-in round trip for User.Read consent.
    await page.locator('#members-greeting').waitFor();
    expect(await page.locator('#members-greeting').innerText()).toBe(
      'Members area: welcome, Nestor Wilke',
    );
    expect(await page.locator('body').innerText()).toContain('read from Microsoft Graph');
    expect(requests).toEqual({ login: 2, callback: 2 });
    await page.screenshot({ path: screenshotPath('members-overage'), fullPage: true });
    // The demo page names the overage rather than showing "0 groups".
    await page.goto(`${suite.app.appOrigin}/api/demo`);
    expect(await page.locator('#claims [data-claim="groups"]').innerText()).toContain(
      'group overage',
    );
  });

  it('when Graph is down, then the page says groups_unavailable (not forbidden), and JSON is 503 with Retry-After', async () => {
    const page = await newPage();
    // Signed in with User.Read consented, so only the group lookup itself meets the outage.
    await openAs(page, '/api/profile', NESTOR);
    await page.locator('#profile-title').waitFor();
    await control.setGraphOutage('unavailable');
    const response = await page.goto(`${suite.app.appOrigin}/api/members`);
    expect(response?.status()).toBe(503);
    expect(await reasonShown(page)).toBe('groups_unavailable');
    expect(await page.locator('body').innerText()).toContain(
      'Your group memberships could not be read',
    );
    const json = await page.evaluate(async () => {
      const r = await fetch('/api/members', { headers: { accept: 'application/json' } });
      return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() };
    });
    expect(json).toMatchObject({
      status: 503,
      retryAfter: '7',
      body: { error: 'groups_unavailable' },
    });
    await page.screenshot({ path: screenshotPath('members-graph-down'), fullPage: true });
  });
});
