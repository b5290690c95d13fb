import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { request as undiciRequest } from 'undici';
import { screenshotPath } from '../support/chromium';
import { chromiumSuite } from '../support/chromiumSuite';
import {
  CALLBACK_PATH,
  flowRecords,
  LOGIN_PATH,
  loginUrl,
  shuffle,
  TEST_USERS,
  userButton,
  waitForEmulatorLogin,
} from '../support/scaleOut';

/**
 * Sign-in in a real browser (Chromium), through three instances of the served functions
 * behind a load balancer that picks an instance at random for every request: any step of any
 * sign-in below may land on any instance. Chromium trusts no extra certificate (like a
 * person's browser): it meets the Entra emulator only at its http front door.
 */

jest.setTimeout(120_000);

const [ADELE, ALEX] = TEST_USERS;

const suite = chromiumSuite({
  instances: 3,
  // After sign-out, Entra sends the browser back to the demo page (registered with the emulator).
  settings: (origin) => ({ AUTH_POST_LOGOUT_REDIRECT_URI: `${origin}/api/demo` }),
});
const { newContext, newPage, pickUser } = suite;

const url = (path: string) => `${suite.app.appOrigin}${path}`;

/** The reason code an error page shows, if the page is one (no waiting). */
async function reasonShown(page: Page): Promise<string | undefined> {
  await page.waitForLoadState();
  const code = page.locator('#reason-code');
  return (await code.count()) > 0 ? code.innerText() : undefined;
}

describe('sign-in in Chromium through a random load balancer', () => {
  it('when a user signs in from the demo page, then it shows the user; signing out ends it at the emulator and shows signed-out', async () => {
    const context = await newContext();
    const origins = new Set<string>();
    context.on('request', (r) => {
      const { protocol, origin } = new URL(r.url());
      if (protocol === 'http:' || protocol === 'https:') origins.add(origin);
    });
    const page = await context.newPage();
    await page.goto(url('/api/demo'));
    await page.locator('#status[data-state="signed-out"]').waitFor();

    await page.click('#sign-in');
    await pickUser(page, ADELE);
    expect(page.url()).toBe(url('/api/demo'));
    await page.locator('#status[data-state="signed-in"]').waitFor();
    expect(await page.locator('#status').innerText()).toContain('Adele Vance');
    const claim = (name: string) => page.locator(`#claims [data-claim="${name}"]`).innerText();
    expect(await claim('preferred_username')).toBe(ADELE.username);
    expect(await claim('roles')).toContain('Admin');
    await page.screenshot({ path: screenshotPath('demo-signed-in'), fullPage: true });

    const endSessionRequests: URL[] = [];
    page.on('request', (r) => {
      const requested = new URL(r.url());
      if (requested.origin === suite.app.emulatorOrigin && requested.pathname.endsWith('/logout')) {
        endSessionRequests.push(requested);
      }
    });
    const navigated = page.waitForEvent('framenavigated', (f) => f === page.mainFrame());
    await page.click('#sign-out');
    await navigated;
    // Redirects commit no page: the next page is the demo page again, or the app's error page.
    expect({ at: page.url(), reason: await reasonShown(page) }).toEqual({
      at: url('/api/demo'),
      reason: undefined,
    });
    expect(endSessionRequests).toHaveLength(1);
    expect(endSessionRequests[0]!.searchParams.get('post_logout_redirect_uri')).toBe(
      url('/api/demo'),
    );
    await page.locator('#status[data-state="signed-out"]').waitFor();
    expect(await page.locator('#status').innerText()).toBe('You are signed out.');
    expect((await page.request.get(url('/api/auth/me'))).status()).toBe(401);

    // The emulator's session ended too: signing in again asks for an account (with a live
    // Entra session the browser would come straight back to the demo page instead).
    const next = page.waitForEvent('framenavigated', (f) => f === page.mainFrame());
    await page.click('#sign-in');
    await next;
    expect(new URL(page.url()).origin).toBe(suite.app.emulatorOrigin);
    await waitForEmulatorLogin(page, suite.app.emulatorOrigin, ADELE);

    // No certificate warning to click through: the browser only ever used plain http on
    // localhost (the app and the emulator's front door), never the emulator's https port.
    expect(suite.app.emulatorOrigin).toMatch(/^http:\/\/localhost:\d+$/);
    expect([...origins].sort()).toEqual([suite.app.appOrigin, suite.app.emulatorOrigin].sort());
    expect(origins.has(suite.app.emulatorHttpsOrigin)).toBe(false);
  });

  it('when a session the demo page showed is gone (expired), then the page says it ended, not "not signed in"', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(url('/api/demo'));
    await page.locator('#status[data-state="signed-out"]').waitFor();
    expect(await page.locator('#status').innerText()).toBe('You are not signed in.');
    await page.click('#sign-in');
    await pickUser(page, ADELE);
    await page.locator('#status[data-state="signed-in"]').waitFor();

    // What an idle expiry looks like to the browser: the session cookie no longer works.
    await context.clearCookies();
    await page.reload();
    await page.locator('#status[data-state="signed-out"]').waitFor();
    expect(await page.locator('#status').innerText()).toMatch(/^Your session has ended/);
  });

  it('when a protected URL is opened signed out, then sign-in lands back on that same URL', async () => {
    const page = await newPage();
    const logins: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === LOGIN_PATH) logins.push(r.url());
    });
    await page.goto(url('/api/hello?x=1'));
    await pickUser(page, ALEX);

    expect(page.url()).toBe(url('/api/hello?x=1'));
    expect(await page.locator('#greeting').innerText()).toBe('Hello, Alex Wilber!');
    expect(logins).toEqual([loginUrl(suite.app.appOrigin, '/api/hello?x=1')]);
  });

  it('when three tabs start sign-in before any finishes and finish in a shuffled order, then all three are signed in and no flow is left unconsumed', async () => {
    const context = await newContext();
    const marker = randomBytes(6).toString('hex');
    const tabs = await Promise.all(
      [0, 1, 2].map(async (n) => ({
        n,
        page: await context.newPage(),
        returnTo: `/api/hello?tabs=${marker}&n=${n}`,
      })),
    );
    // All three at once, before the browser holds any cookie of the suite.app.
    await Promise.all(
      tabs.map(async (tab) => {
        await tab.page.goto(loginUrl(suite.app.appOrigin, tab.returnTo));
        await waitForEmulatorLogin(tab.page, suite.app.emulatorOrigin, ADELE);
      }),
    );

    let order = shuffle(tabs);
    if (order.every((tab, i) => tab.n === i)) order = [...order].reverse();
    for (const tab of order) {
      await userButton(tab.page, ADELE).click();
      await tab.page.waitForURL((u) => u.origin === suite.app.appOrigin);
      expect([tab.n, tab.page.url()]).toEqual([tab.n, url(tab.returnTo)]);
      expect(await tab.page.locator('#greeting').innerText()).toBe('Hello, Adele Vance!');
    }
    // Still signed in in every tab once all have finished.
    for (const tab of tabs) {
      await tab.page.reload();
      expect(await tab.page.locator('#greeting').innerText()).toBe('Hello, Adele Vance!');
    }

    const flows = await flowRecords(suite.app.stack!.azurite.connectionString, marker);
    expect(flows.map((f) => f.returnTo).sort()).toEqual(tabs.map((t) => t.returnTo));
    expect(flows.filter((f) => typeof f.consumedAtMs !== 'number')).toEqual([]);
  });

  it('when the callback URL is loaded again after success, then the user stays signed in, with no error page', async () => {
    const page = await newPage();
    const callbacks: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === CALLBACK_PATH) callbacks.push(r.url());
    });
    const returnTo = '/api/hello?reload=1';
    await page.goto(loginUrl(suite.app.appOrigin, returnTo));
    await pickUser(page, ADELE);
    expect(page.url()).toBe(url(returnTo));
    expect(callbacks).toHaveLength(1);

    const response = await page.goto(callbacks[0]!);
    const callbackResponse = await response?.request().redirectedFrom()?.response();
    expect(callbackResponse?.url()).toBe(callbacks[0]);
    expect(callbackResponse?.status()).toBe(302);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(url(returnTo));
    expect(await page.locator('#greeting').innerText()).toBe('Hello, Adele Vance!');
    expect(await page.locator('#reason-code').count()).toBe(0);
  });

  it('when the browser blocks the cookies of the app, then the callback page names missing_flow_cookie and says what to do', async () => {
    const context = await newContext();
    // A browser that blocks the site's cookies: the login response reaches it without Set-Cookie.
    await context.route(
      (u) => u.origin === suite.app.appOrigin && u.pathname === LOGIN_PATH,
      async (route) => {
        const request = route.request();
        const headers = Object.fromEntries(
          Object.entries(await request.allHeaders()).filter(
            ([name]) => !name.startsWith(':') && name !== 'host',
          ),
        );
        const upstream = await undiciRequest(request.url(), { headers });
        const responseHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(upstream.headers)) {
          if (name !== 'set-cookie' && value !== undefined) {
            responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
          }
        }
        await route.fulfill({
          status: upstream.statusCode,
          headers: responseHeaders,
          body: Buffer.from(await upstream.body.arrayBuffer()),
        });
      },
    );
    const page = await context.newPage();
    const callback = page.waitForResponse((r) => new URL(r.url()).pathname === CALLBACK_PATH);
    await page.goto(loginUrl(suite.app.appOrigin, '/api/hello?blocked=1'));
    await pickUser(page, ADELE);

    expect((await context.cookies(suite.app.appOrigin)).map((c) => c.name)).toEqual([]);
    expect((await callback).status()).toBe(400);
    expect(new URL(page.url()).pathname).toBe(CALLBACK_PATH);
    expect(await page.locator('#reason-code').innerText()).toBe('missing_flow_cookie');
    expect(await page.locator('h1').innerText()).toBe(
      'Your browser did not send back the sign-in cookie',
    );
    expect(await page.locator('main').innerText()).toContain(
      'Allow cookies for this site and sign in again.',
    );
    const again = page.getByRole('link', { name: 'Sign in again' });
    expect(await again.getAttribute('href')).toMatch(/^\/api\/auth\/login/);
    expect(await page.locator('#correlation-id').innerText()).toMatch(/\S{8,}/);
    await page.screenshot({ path: screenshotPath('error-missing-flow-cookie'), fullPage: true });
  });
});
