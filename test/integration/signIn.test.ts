import { TableClient } from '@azure/data-tables';
import { createHash } from 'node:crypto';
import { AUTH_TABLE_NAME } from '../../src/adapters/tables/tableLayout';
import {
  browserPool,
  isCallback,
  me,
  openLogin,
  pickUser,
  signIn,
  USERS,
} from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/**
 * Sign-in through the real parts: the served functions over HTTP, Azurite, and the Entra
 * emulator, with a cookie-jar client playing the browser.
 */

let stack: Stack;
const browsers = browserPool();
const browser = () => browsers.open();

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});

describe('sign-in over HTTP', () => {
  it('when a user signs in, then the callback lands on the return URL, me shows the claims, and logout ends it', async () => {
    const client = browser();
    const done = await signIn(client, stack.appOrigin, {
      returnTo: '/api/auth/me',
      user: USERS.megan,
    });
    expect(done.status).toBe(302);
    expect(done.location).toBe(`${stack.appOrigin}/api/auth/me`);
    expect(done.headers['cache-control']).toBe('no-store');
    expect(done.headers['referrer-policy']).toBe('no-referrer');
    // The session cookie, and the finished flow's cookie cleared.
    const [sessionSetCookie, flowSetCookie, ...more] = ([] as string[]).concat(
      done.headers['set-cookie'] ?? [],
    );
    expect(sessionSetCookie).toMatch(
      /^__Host-authsession=[^;]{1,100}; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    expect(flowSetCookie).toMatch(/^__Host-authflow-[A-Za-z0-9_-]{12}=; Max-Age=0; Path=\/;/);
    expect(more).toEqual([]);

    const session = await me(client, stack.appOrigin);
    expect(session.status).toBe(200);
    const body = session.json<{
      authenticated: boolean;
      user: Record<string, unknown>;
      expiresAt: string;
    }>();
    expect(body.authenticated).toBe(true);
    expect(body.user).toMatchObject({
      name: 'Megan Bowen',
      preferred_username: USERS.megan,
      tid: stack.emulator.tenantId,
      oid: expect.any(String),
      email: expect.any(String),
    });
    expect(body.user.groups).toHaveLength(150); // and yet the cookie stayed under 100 bytes
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());

    const logoutPage = await client.request(`${stack.appOrigin}/api/auth/logout`);
    expect(logoutPage.body).toContain('method="post"');
    const logout = await client.request(`${stack.appOrigin}/api/auth/logout`, {
      method: 'POST',
      headers: { origin: stack.appOrigin, 'sec-fetch-site': 'same-origin' },
    });
    expect(logout.status).toBe(302);
    const endSession = new URL(logout.location!);
    // The end-session endpoint as discovery names it (the emulator's browser-facing origin).
    expect(endSession.pathname).toBe(`/${stack.emulator.tenantId}/oauth2/v2.0/logout`);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.appOrigin}/`);
    expect(endSession.searchParams.get('logout_hint')).toEqual(expect.any(String));
    const { final } = await client.follow(logout.location!);
    expect(final.url.startsWith(stack.appOrigin)).toBe(true);
    expect((await me(client, stack.appOrigin)).status).toBe(401);

    // The emulator session ended too: signing in again shows the login page.
    await openLogin(client, stack.appOrigin);
  });

  it('when the protected example function is opened signed out, then it sends the browser to sign in and back', async () => {
    const client = browser();
    const first = await client.request(`${stack.appOrigin}/api/hello?x=1`);
    expect(first.status).toBe(302);
    expect(first.location).toBe(
      `${stack.appOrigin}/api/auth/login?returnTo=%2Fapi%2Fhello%3Fx%3D1`,
    );
    const loginPage = (await client.follow(first.location!)).final;
    const done = await client.request(await pickUser(client, loginPage, USERS.alex));
    expect(done.location).toBe(`${stack.appOrigin}/api/hello?x=1`);
    expect((await client.request(done.location!)).body).toContain('Hello, Alex Wilber!');
  });

  it('when two flows start in one browser and finish in reverse order, then both succeed', async () => {
    const client = browser();
    const pageOne = await openLogin(client, stack.appOrigin, '?returnTo=/one');
    const pageTwo = await openLogin(client, stack.appOrigin, '?returnTo=/two');
    const callbackTwo = await pickUser(client, pageTwo, USERS.adele);
    const callbackOne = await pickUser(client, pageOne, USERS.adele);
    const two = await client.request(callbackTwo);
    const one = await client.request(callbackOne);
    expect([two.status, two.location]).toEqual([302, `${stack.appOrigin}/two`]);
    expect([one.status, one.location]).toEqual([302, `${stack.appOrigin}/one`]);
  });

  it('when three flows start concurrently in a browser with no cookie yet, then all three succeed', async () => {
    const client = browser();
    const pages = await Promise.all(
      ['/a', '/b', '/c'].map((r) => openLogin(client, stack.appOrigin, `?returnTo=${r}`)),
    );
    const callbacks = [];
    for (const page of pages) callbacks.push(await pickUser(client, page, USERS.adele));
    const results = await Promise.all(
      [callbacks[1]!, callbacks[2]!, callbacks[0]!].map((c) => client.request(c)),
    );
    expect(results.map((r) => [r.status, r.location])).toEqual([
      [302, `${stack.appOrigin}/b`],
      [302, `${stack.appOrigin}/c`],
      [302, `${stack.appOrigin}/a`],
    ]);
  });

  it('when the callback is replayed after the session is gone, then state_already_used; while signed in, it goes on', async () => {
    const client = browser();
    const loginPage = await openLogin(client, stack.appOrigin, '?returnTo=/again');
    const callbackUrl = await pickUser(client, loginPage, USERS.adele);
    expect((await client.request(callbackUrl)).status).toBe(302);

    const reload = await client.request(callbackUrl);
    expect([reload.status, reload.location]).toEqual([302, `${stack.appOrigin}/again`]);

    await client.jar.setCookie('__Host-authsession=; Max-Age=0; Path=/; Secure', stack.appOrigin);
    const replay = await client.request(callbackUrl, { headers: { accept: 'application/json' } });
    expect(replay.status).toBe(400);
    expect(replay.json()).toMatchObject({
      error: 'state_already_used',
      correlationId: expect.any(String),
    });
  });

  it("when a callback carries another browser's state, then unknown_state", async () => {
    const victim = browser();
    const attacker = browser();
    await openLogin(attacker, stack.appOrigin); // the attacker's browser holds a flow cookie of its own
    const callbackUrl = await pickUser(
      victim,
      await openLogin(victim, stack.appOrigin),
      USERS.adele,
    );
    const response = await attacker.request(callbackUrl, {
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: 'unknown_state' });
  });

  it('when the callback comes without the flow cookie, then missing_flow_cookie with a page that says what to do', async () => {
    const client = browser();
    const callbackUrl = await pickUser(
      client,
      await openLogin(client, stack.appOrigin, '?returnTo=/deep'),
      USERS.adele,
    );
    const cookieless = browser();
    const response = await cookieless.request(callbackUrl);
    expect(response.status).toBe(400);
    expect(response.body).toContain('missing_flow_cookie');
    expect(response.body).toMatch(/Allow cookies for this site/);
    expect(response.body).toContain('/api/auth/login');
  });

  it('when the user cancels at the provider, then idp_error shows its AADSTS description', async () => {
    const client = browser();
    const loginPage = await openLogin(client, stack.appOrigin, '?returnTo=/somewhere');
    const cancelled = await client.submitForm(loginPage, (form) => form.text === 'Cancel');
    const { final } = await client.follow(cancelled.location!, {}, { stopAt: isCallback });
    const response = await client.request(final.location!);
    expect(response.status).toBe(400);
    expect(response.body).toContain('idp_error');
    expect(response.body).toMatch(/access_denied: AADSTS65004/);
    expect(response.body).toContain('/api/auth/login?returnTo=%2Fsomewhere');
  });

  it('when an error arrives for no flow of this browser, then its text is not shown (no spoofed messages)', async () => {
    const client = browser();
    const response = await client.request(
      `${stack.appOrigin}/api/auth/callback?error=access_denied&error_description=${encodeURIComponent('Your account is locked, call +1 555 0100')}`,
    );
    expect(response.status).toBe(400);
    expect(response.body).toContain('idp_error');
    expect(response.body).not.toContain('555 0100');
  });

  it('when the logout POST comes from another site, then 403 and the session survives', async () => {
    const client = browser();
    await signIn(client, stack.appOrigin);
    const response = await client.request(`${stack.appOrigin}/api/auth/logout`, {
      method: 'POST',
      headers: { origin: 'https://evil.test', accept: 'application/json' },
    });
    expect(response.status).toBe(403);
    expect(response.json()).toMatchObject({ error: 'invalid_request' });
    expect((await me(client, stack.appOrigin)).status).toBe(200);
  });

  it('when login is opened on 127.0.0.1, then it first moves to the redirect URI host, before any cookie', async () => {
    const client = browser();
    const port = new URL(stack.appOrigin).port;
    const response = await client.request(`http://127.0.0.1:${port}/api/auth/login?returnTo=/x`);
    expect(response.status).toBe(302);
    expect(response.location).toBe(`${stack.appOrigin}/api/auth/login?returnTo=/x`);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('when a sign-in completes, then its flow record is consumed and the session row is keyed by a hash', async () => {
    const client = browser();
    const callbackUrl = await pickUser(
      client,
      await openLogin(client, stack.appOrigin),
      USERS.adele,
    );
    const [flowPartition, flowId] = new URL(callbackUrl).searchParams.get('state')!.split('.');
    expect((await client.request(callbackUrl)).status).toBe(302);

    const cookies = await client.jar.getCookies(stack.appOrigin);
    const [partition, secret] = cookies
      .find((c) => c.key === '__Host-authsession')!
      .value.split('.');
    const table = TableClient.fromConnectionString(
      stack.azurite.connectionString,
      AUTH_TABLE_NAME,
      {
        allowInsecureConnection: true,
      },
    );
    const flow = await table.getEntity(flowPartition!, `f.${flowId}`);
    expect(flow.consumedAtMs).toEqual(expect.any(Number));
    // The session sits beside its flow (one transaction), keyed by the hash of its secret.
    expect(partition).toBe(flowPartition);
    const sessionKey = `s.${createHash('sha256').update(secret!).digest('base64url')}`;
    expect((await table.getEntity(partition!, sessionKey)).kind).toBe('session');
    const rowKeys = [];
    for await (const row of table.listEntities({
      queryOptions: { filter: `PartitionKey eq '${partition}'` },
    })) {
      rowKeys.push(row.rowKey as string);
    }
    expect(rowKeys.join(' ')).not.toContain(secret);
  });

  it.each([
    [
      'an oversized returnTo',
      '/api/auth/login?returnTo=/' + 'a'.repeat(5000),
      {},
      'invalid_request',
    ],
    ['an unknown prompt', '/api/auth/login?prompt=evil', {}, 'invalid_request'],
    [
      'an oversized Cookie header',
      '/api/auth/callback?state=x&code=y',
      { cookie: `a=${'x'.repeat(9000)}` },
      'invalid_request',
    ],
    [
      'a malformed flow cookie',
      '/api/auth/callback?state=x&code=y',
      { cookie: '__Host-authflow-abc=%E0%A4%A' },
      'missing_flow_cookie',
    ],
    [
      'a malformed state',
      '/api/auth/callback?state=../../x&code=y',
      { cookie: '__Host-authflow-abcdefabcdef=zz.AAAAAAAAAAAAAAAAAAAAAA' },
      'unknown_state',
    ],
    [
      'a control character in the code',
      '/api/auth/callback?state=a.b&code=%01',
      {},
      'invalid_request',
    ],
  ])(
    'when a request has %s, then a clear %s error and the host keeps serving',
    async (_label, pathAndQuery, headers, code) => {
      const client = browser();
      const response = await client.request(`${stack.appOrigin}${pathAndQuery}`, {
        headers: { accept: 'application/json', ...headers },
      });
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ error: code });
      expect((await client.request(`${stack.appOrigin}/api/demo`)).status).toBe(200);
    },
  );
});
