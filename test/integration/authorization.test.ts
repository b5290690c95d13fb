import type { BrowserClient } from '../support/browserClient';
import { browserPool, signIn, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/**
 * Who may do what, through the real parts: the served functions, Azurite and the emulator,
 * whose users carry app roles (Adele: Admin, Megan: Reader, Alex: none).
 */

let stack: Stack;
const browsers = browserPool();

beforeAll(async () => {
  stack = await startStack({ instances: 1 });
}, 120_000);
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});

async function signedIn(user: string): Promise<BrowserClient> {
  const client = browsers.open();
  expect((await signIn(client, stack.appOrigin, { returnTo: '/api/demo', user })).status).toBe(302);
  return client;
}

describe('app roles', () => {
  it('when an Admin opens the Admin-only function, then it runs (page and JSON)', async () => {
    const client = await signedIn(USERS.adele);
    const page = await client.request(`${stack.appOrigin}/api/admin`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Admin area: welcome, Adele Vance');
    const json = await client.request(`${stack.appOrigin}/api/admin`, {
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(200);
    expect(json.json()).toEqual({ admin: true, user: 'Adele Vance', caller: 'session' });
  });

  it('when a Reader opens it, then forbidden 403: a page naming the missing role and how to get it, never a redirect to sign in', async () => {
    const client = await signedIn(USERS.megan);
    const page = await client.request(`${stack.appOrigin}/api/admin`);
    expect(page.status).toBe(403);
    expect(page.headers.location).toBeUndefined();
    expect(page.body).toContain('data-reason="forbidden"');
    expect(page.body).toContain('You do not have access to this');
    expect(page.body).toContain(
      'This needs the app role &#34;Admin&#34;; you have &#34;Reader&#34;',
    );
    expect(page.body).toContain('Ask an administrator to assign you the role');
  });

  it('when a user without roles calls it as an API, then forbidden 403 JSON', async () => {
    const client = await signedIn(USERS.alex);
    const json = await client.request(`${stack.appOrigin}/api/admin`, {
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(403);
    expect(json.json()).toMatchObject({
      error: 'forbidden',
      message: expect.stringContaining('"Admin"; you have none'),
      correlationId: expect.any(String),
    });
  });

  it('when nobody is signed in, then still 401 / sign-in (not forbidden)', async () => {
    const client = browsers.open();
    const json = await client.request(`${stack.appOrigin}/api/admin`, {
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(401);
    const page = await client.request(`${stack.appOrigin}/api/admin`);
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('/api/auth/login?returnTo=%2Fapi%2Fadmin');
  });
});

describe('state-changing requests with the session cookie', () => {
  const hello = () => `${stack.appOrigin}/api/hello`;
  const post = (client: BrowserClient, headers: Record<string, string>) =>
    client.request(hello(), {
      method: 'POST',
      body: '{}',
      headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
    });

  it("when a POST comes from the app's own page (Origin, or Sec-Fetch-Site without it), then it runs", async () => {
    const client = await signedIn(USERS.megan);
    const own = await post(client, { origin: stack.appOrigin, 'sec-fetch-site': 'same-origin' });
    expect([own.status, own.json()]).toEqual([200, { hello: 'Megan Bowen', method: 'POST' }]);
    expect((await post(client, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
  });

  it('when a POST with the session cookie comes from another origin, or says nothing of where it came from, then 403 invalid_request and the handler does not run', async () => {
    const client = await signedIn(USERS.megan);
    const origins: Record<string, string>[] = [
      { origin: 'https://blog.contoso.test', 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      {},
    ];
    for (const headers of origins) {
      const refused = await post(client, headers);
      expect([refused.status, refused.json()]).toMatchObject([
        403,
        { error: 'invalid_request', message: expect.stringContaining("this app's own pages") },
      ]);
    }
    // A GET changes nothing: it is served whatever its origin (links from other sites).
    const linked = await client.request(hello(), {
      headers: { origin: 'https://blog.contoso.test', 'sec-fetch-site': 'cross-site' },
    });
    expect(linked.status).toBe(200);
  });
});
