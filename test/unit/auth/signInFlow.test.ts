import { completeLogin } from '../../../src/auth/completeLogin';
import {
  FLOW_COOKIE_PREFIX,
  MAX_FLOW_COOKIES,
  SESSION_COOKIE_NAME,
} from '../../../src/auth/cookies';
import { AuthError } from '../../../src/auth/errors';
import { endSession } from '../../../src/auth/endSession';
import { getCurrentUser } from '../../../src/auth/sessions';
import { startLogin } from '../../../src/auth/startLogin';
import { APP, createHarness, FakeBrowser, type Harness } from '../../support/flowHarness';

/** The use cases end to end over the in-memory store and a fake provider. */

async function login(h: Harness, browser: FakeBrowser, query = '') {
  const result = await startLogin(h.ctx, {
    url: new URL(`${APP}/api/auth/login${query}`),
    cookies: browser.jar(),
  });
  browser.apply(result.cookies);
  return result;
}

function callbackUrl(params: Record<string, string>): URL {
  return new URL(`${APP}/api/auth/callback?${new URLSearchParams(params)}`);
}

async function callback(h: Harness, browser: FakeBrowser, params: Record<string, string>) {
  const result = await completeLogin(h.ctx, { url: callbackUrl(params), cookies: browser.jar() });
  browser.apply(result.cookies);
  return result;
}

async function signIn(h: Harness, browser: FakeBrowser, query = '') {
  const started = await login(h, browser, query);
  return callback(h, browser, h.idp.authorize(started.location));
}

describe('sign-in flow', () => {
  let h: Harness;
  let browser: FakeBrowser;
  beforeEach(async () => {
    h = await createHarness();
    browser = new FakeBrowser(h.clock);
  });

  it('when a user signs in, then the callback creates a session and me returns the user', async () => {
    const started = await login(h, browser, '?returnTo=%2Fdashboard%3Fx%3D1');
    expect(started.location).toMatch(/^https:\/\/idp\.test\//);
    const done = await callback(h, browser, h.idp.authorize(started.location));

    expect(done.location).toBe(`${APP}/dashboard?x=1`);
    expect(browser.jar()[SESSION_COOKIE_NAME]).toBeDefined();
    const current = await getCurrentUser(h.ctx, browser.jar());
    expect(current?.user).toMatchObject({
      name: 'Adele Vance',
      tid: expect.any(String),
      roles: ['Admin'],
    });
    expect(h.store.unconsumedFlows()).toBe(0);
    // The finished flow's cookie is cleared: only the session cookie is left to send.
    expect(Object.keys(browser.jar())).toEqual([SESSION_COOKIE_NAME]);
  });

  it.each([
    ['no returnTo', ''],
    ['a refused returnTo', '?returnTo=%2F%2Fevil.example'],
  ])(
    'when a sign-in has %s, then it lands on the configured default (AUTH_DEFAULT_RETURN_TO)',
    async (_, query) => {
      h = await createHarness({ defaultReturnTo: '/api/demo' });
      browser = new FakeBrowser(h.clock);
      expect((await signIn(h, browser, query)).location).toBe(`${APP}/api/demo`);
    },
  );

  it('when the code is redeemed, then the PKCE verifier, nonce and state of the flow are used', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    await callback(h, browser, query);
    expect(h.idp.redeemed[0]).toMatchObject({ code: query.code, state: query.state });
    expect(h.idp.redeemed[0]?.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('when two flows start in one browser and finish in reverse order, then both succeed', async () => {
    const first = await login(h, browser, '?returnTo=/one');
    const second = await login(h, browser, '?returnTo=/two');
    const secondDone = await callback(h, browser, h.idp.authorize(second.location));
    const firstDone = await callback(h, browser, h.idp.authorize(first.location));
    expect(secondDone.location).toBe(`${APP}/two`);
    expect(firstDone.location).toBe(`${APP}/one`);
  });

  it('when three flows start at the same instant before any cookie exists, then all three succeed', async () => {
    const empty = browser.jar();
    const starts = await Promise.all(
      [1, 2, 3].map((n) =>
        startLogin(h.ctx, {
          url: new URL(`${APP}/api/auth/login?returnTo=/tab${n}`),
          cookies: empty,
        }),
      ),
    );
    for (const s of starts) browser.apply(s.cookies);
    expect(Object.keys(browser.jar()).filter((n) => n.startsWith(FLOW_COOKIE_PREFIX))).toHaveLength(
      3,
    );
    const done = [];
    for (const s of [starts[2], starts[0], starts[1]])
      done.push(await callback(h, browser, h.idp.authorize(s!.location)));
    expect(done.map((d) => d.location)).toEqual([`${APP}/tab3`, `${APP}/tab1`, `${APP}/tab2`]);
  });

  it('when the callback is replayed without a session, then state_already_used', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    await callback(h, browser, query);
    browser.cookies.delete(SESSION_COOKIE_NAME);
    await expect(callback(h, browser, query)).rejects.toMatchObject({ code: 'state_already_used' });
  });

  it('when the callback is reloaded by a signed-in browser, then it goes on to the return URL', async () => {
    const started = await login(h, browser, '?returnTo=/here');
    const query = h.idp.authorize(started.location);
    await callback(h, browser, query);
    await expect(callback(h, browser, query)).resolves.toMatchObject({
      location: `${APP}/here`,
      cookies: [],
    });
    expect(h.idp.redeemed).toHaveLength(1);
  });

  it("when a signed-in browser opens another's finished callback, then state_already_used and not that flow's return URL", async () => {
    const victim = new FakeBrowser(h.clock);
    const started = await login(h, victim, '?returnTo=/private%3Fdoc%3D42');
    const query = h.idp.authorize(started.location);
    await callback(h, victim, query);
    await signIn(h, browser, '?returnTo=/mine');
    await expect(callback(h, browser, query)).rejects.toMatchObject({
      code: 'state_already_used',
    });
    // The flow's own browser still goes on.
    await expect(callback(h, victim, query)).resolves.toMatchObject({
      location: `${APP}/private?doc=42`,
    });
  });

  it('when a signed-in browser gets a callback for a flow it did not start and no one finished, then it is refused and the code is not redeemed', async () => {
    await signIn(h, browser);
    const attacker = new FakeBrowser(h.clock);
    const attackersQuery = h.idp.authorize((await login(h, attacker)).location);
    await expect(callback(h, browser, attackersQuery)).rejects.toMatchObject({
      code: 'missing_flow_cookie',
    });
    expect(h.idp.redeemed).toHaveLength(1);
    expect(h.store.unconsumedFlows()).toBe(1);
  });

  it('when two duplicate callbacks race, then exactly one signs in and the other is state_already_used', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    const jar = browser.jar();
    const results = await Promise.allSettled([
      completeLogin(h.ctx, { url: callbackUrl(query), cookies: jar }),
      completeLogin(h.ctx, { url: callbackUrl(query), cookies: jar }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'state_already_used' });
  });

  it('when the callback comes from another browser, then unknown_state', async () => {
    const started = await login(h, browser);
    const other = new FakeBrowser(h.clock);
    await login(h, other); // the other browser has a flow cookie of its own
    await expect(callback(h, other, h.idp.authorize(started.location))).rejects.toMatchObject({
      code: 'unknown_state',
    });
  });

  it('when the callback comes without any flow cookie, then missing_flow_cookie', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    await expect(
      completeLogin(h.ctx, { url: callbackUrl(query), cookies: {} }),
    ).rejects.toMatchObject({
      code: 'missing_flow_cookie',
      status: 400,
    });
  });

  it('when the state is forged, then unknown_state', async () => {
    await login(h, browser);
    await expect(
      callback(h, browser, { code: 'c', state: 'b0000000001-01.AAAAAAAAAAAAAAAAAAAAAA' }),
    ).rejects.toMatchObject({
      code: 'unknown_state',
    });
  });

  it('when the flow is past its TTL, then state_expired, and after retention still not unknown', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    h.clock.advance(601);
    await expect(callback(h, browser, query)).rejects.toMatchObject({ code: 'state_expired' });
  });

  it('when Entra returns an error, then idp_error with its description, and the flow is consumed', async () => {
    const started = await login(h, browser);
    const state = new URL(started.location).searchParams.get('state')!;
    const error = await callback(h, browser, {
      state,
      error: 'access_denied',
      error_description: 'AADSTS65004: User declined to consent.\r\nTrace ID: x',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'idp_error',
      details: expect.stringContaining('AADSTS65004'),
    });
    expect(h.store.unconsumedFlows()).toBe(0);
  });

  it('when Entra returns an error for a flow this browser did not start, then its text is not shown', async () => {
    const error = await callback(h, browser, {
      error: 'access_denied',
      error_description: 'Your account is locked, call +1 555 0100',
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'idp_error', details: undefined });
  });

  it('when Entra returns an error while storage is down, then idp_error still comes first', async () => {
    const started = await login(h, browser);
    const state = new URL(started.location).searchParams.get('state')!;
    jest.spyOn(h.store, 'readFlow').mockRejectedValue(new Error('storage down'));
    await expect(callback(h, browser, { state, error: 'access_denied' })).rejects.toMatchObject({
      code: 'idp_error',
    });
  });

  it('when the provider’s token fails msal-node’s own checks, then invalid_id_token and the flow is consumed', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    const { AuthError } = await import('../../../src/auth/errors');
    h.idp.failNextRedemption = new AuthError('invalid_id_token', 'nonce_mismatch');
    await expect(callback(h, browser, query)).rejects.toMatchObject({ code: 'invalid_id_token' });
    expect(h.store.unconsumedFlows()).toBe(0);
  });

  it('when a flow is past its retention but not yet cleaned up, then unknown_state', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    h.clock.advance(600 + 3600);
    await expect(callback(h, browser, query)).rejects.toMatchObject({ code: 'unknown_state' });
  });

  it('when the token endpoint fails, then token_exchange_failed', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    h.idp.failNextRedemption = Object.assign(new Error('boom'), { code: 'token_exchange_failed' });
    await expect(callback(h, browser, query)).rejects.toThrow('boom');
  });

  it('when the provider refuses the code (invalid_grant), then the flow is consumed: a replay with more codes never reaches the token endpoint', async () => {
    const started = await login(h, browser);
    const { state } = h.idp.authorize(started.location);
    await expect(callback(h, browser, { code: 'junk', state })).rejects.toMatchObject({
      code: 'token_exchange_failed',
      final: true,
    });
    expect(h.store.unconsumedFlows()).toBe(0);
    await expect(callback(h, browser, { code: 'junk-2', state })).rejects.toMatchObject({
      code: 'state_already_used',
    });
    expect(h.idp.redeemed).toHaveLength(1);
  });

  it('when the provider fails (not a refusal), then the flow stays for a reload to finish the sign-in', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location);
    h.idp.failNextRedemption = new AuthError('token_exchange_failed', 'token endpoint timed out');
    await expect(callback(h, browser, query)).rejects.toMatchObject({
      code: 'token_exchange_failed',
    });
    expect(h.store.unconsumedFlows()).toBe(1);
    expect((await callback(h, browser, query)).kind).toBe('redirect');
  });

  it('when a user signs in again, then the previous session row is deleted', async () => {
    await signIn(h, browser);
    const firstJar = browser.jar();
    await signIn(h, browser);
    expect(await getCurrentUser(h.ctx, firstJar)).toBeUndefined();
    expect(await getCurrentUser(h.ctx, browser.jar())).toBeDefined();
  });

  it('when many flows start, then at most MAX_FLOW_COOKIES flow cookies remain, oldest dropped first', async () => {
    const firstStart = await login(h, browser);
    for (let i = 0; i < MAX_FLOW_COOKIES + 3; i++) {
      h.clock.advance(1);
      await login(h, browser);
    }
    const flowCookies = Object.keys(browser.jar()).filter((n) => n.startsWith(FLOW_COOKIE_PREFIX));
    expect(flowCookies).toHaveLength(MAX_FLOW_COOKIES);
    await expect(callback(h, browser, h.idp.authorize(firstStart.location))).rejects.toMatchObject({
      code: 'unknown_state',
    });
  });

  it('when cookies are set, then each stays under 100 bytes and the session cookie does not grow with groups', async () => {
    const started = await login(h, browser);
    const query = h.idp.authorize(started.location, {
      groups: Array.from({ length: 200 }, (_, i) => `group-${i}`),
    });
    const done = await callback(h, browser, query);
    for (const cookie of [...started.cookies, ...done.cookies]) {
      expect(`${cookie.name}=${cookie.value}`.length).toBeLessThan(100);
    }
    expect((await getCurrentUser(h.ctx, browser.jar()))?.user.groups).toHaveLength(200);
  });

  it('when login is requested on another host than the redirect URI, then it moves there before any cookie', async () => {
    const result = await startLogin(h.ctx, {
      url: new URL('https://custom.contoso.test/api/auth/login?returnTo=/x'),
      cookies: {},
    });
    expect(result).toEqual({
      kind: 'redirect',
      location: `${APP}/api/auth/login?returnTo=/x`,
      cookies: [],
    });
  });

  it('when https is terminated in front (worker sees http, X-Forwarded-Proto https), then the flow starts without a redirect loop', async () => {
    const result = await startLogin(h.ctx, {
      url: new URL('http://app.contoso.test/api/auth/login'),
      cookies: {},
      forwardedProto: 'https',
    });
    expect(result.location).toMatch(/^https:\/\/idp\.test\//);
    expect(result.cookies).toHaveLength(1);
  });

  it('when the browser used plain http on the app host, then it is moved to https first', async () => {
    const result = await startLogin(h.ctx, {
      url: new URL('http://app.contoso.test/api/auth/login?x=1'),
      cookies: {},
    });
    expect(result).toEqual({
      kind: 'redirect',
      location: `${APP}/api/auth/login?x=1`,
      cookies: [],
    });
  });

  it('when served over plain http on a non-loopback host, then misconfigured explains the dropped cookie', async () => {
    const plain = await createHarness({
      redirectUri: new URL('http://app.contoso.test/api/auth/callback'),
    });
    await expect(
      startLogin(plain.ctx, {
        url: new URL('http://app.contoso.test/api/auth/login'),
        cookies: {},
      }),
    ).rejects.toMatchObject({
      code: 'misconfigured',
      message: expect.stringMatching(/plain http.*Secure/),
    });
  });

  it('when served over plain http on localhost, then the flow starts', async () => {
    const local = await createHarness({
      redirectUri: new URL('http://localhost:7071/api/auth/callback'),
    });
    const result = await startLogin(local.ctx, {
      url: new URL('http://localhost:7071/api/auth/login'),
      cookies: {},
    });
    expect(result.cookies).toHaveLength(1);
  });

  it.each([
    ['an oversized state', { state: 'x'.repeat(300), code: 'c' }],
    ['an oversized code', { state: 's.s', code: 'c'.repeat(9000) }],
    ['a control character in the code', { state: 's.s', code: 'a\u0001b' }],
    ['an illegal error code', { error: 'bad error<script>' }],
  ])(
    'when the callback has %s, then invalid_request and nothing is read',
    async (_label, params) => {
      await login(h, browser);
      await expect(callback(h, browser, params as Record<string, string>)).rejects.toMatchObject({
        code: 'invalid_request',
      });
    },
  );

  it('when login has an unknown prompt value, then invalid_request', async () => {
    await expect(login(h, browser, '?prompt=evil')).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});

describe('sessions', () => {
  let h: Harness;
  let browser: FakeBrowser;
  beforeEach(async () => {
    h = await createHarness({ sessionIdleSeconds: 600, sessionAbsoluteSeconds: 1800 });
    browser = new FakeBrowser(h.clock);
    await signIn(h, browser);
  });

  it('when the session is used within the idle timeout, then it slides, but not past the absolute expiry', async () => {
    for (let i = 0; i < 3; i++) {
      h.clock.advance(500);
      const current = await getCurrentUser(h.ctx, browser.jar());
      expect(current).toBeDefined();
      expect(current!.expiresAt.getTime()).toBeLessThanOrEqual(h.clock.now().getTime() + 600_000);
    }
    h.clock.advance(400); // 1900 s after sign-in: used all along, but past the absolute expiry
    expect(await getCurrentUser(h.ctx, browser.jar())).toBeUndefined();
  });

  it('when the session is idle longer than the idle timeout, then me is anonymous', async () => {
    h.clock.advance(601);
    expect(await getCurrentUser(h.ctx, browser.jar())).toBeUndefined();
  });

  it('when me is called often, then the idle expiry is written at most once per refresh interval', async () => {
    const extend = jest.spyOn(h.store, 'extendSession');
    for (let i = 0; i < 20; i++) {
      h.clock.advance(1);
      await getCurrentUser(h.ctx, browser.jar());
    }
    expect(extend).toHaveBeenCalledTimes(0);
    h.clock.advance(60);
    await getCurrentUser(h.ctx, browser.jar());
    expect(extend).toHaveBeenCalledTimes(1);
  });

  it('when the session cookie is tampered, then me is anonymous', async () => {
    const jar = browser.jar();
    const value = jar[SESSION_COOKIE_NAME]!;
    const tampered = value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');
    expect(await getCurrentUser(h.ctx, { [SESSION_COOKIE_NAME]: tampered })).toBeUndefined();
  });
});

describe('logout', () => {
  let h: Harness;
  let browser: FakeBrowser;
  beforeEach(async () => {
    h = await createHarness();
    browser = new FakeBrowser(h.clock);
    await signIn(h, browser);
  });

  const logoutRequest = (headers: { origin?: string; secFetchSite?: string }) => ({
    url: new URL(`${APP}/api/auth/logout`),
    cookies: browser.jar(),
    ...headers,
  });

  it('when a same-origin POST signs out, then the session is deleted and Entra ends its session', async () => {
    const result = await endSession(h.ctx, logoutRequest({ origin: APP }));
    browser.apply(result.cookies);
    const location = new URL(result.location);
    expect(location.pathname).toMatch(/\/oauth2\/v2.0\/logout$/);
    expect(location.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`);
    expect(browser.jar()[SESSION_COOKIE_NAME]).toBeUndefined();
    expect(await getCurrentUser(h.ctx, logoutRequest({}).cookies)).toBeUndefined();
  });

  it('when the ID token carried login_hint, then it is sent as logout_hint', async () => {
    const h2 = await createHarness();
    const b2 = new FakeBrowser(h2.clock);
    const started = await login(h2, b2);
    await callback(h2, b2, h2.idp.authorize(started.location, { login_hint: 'opaque-hint' }));
    const result = await endSession(h2.ctx, {
      url: new URL(`${APP}/api/auth/logout`),
      cookies: b2.jar(),
      secFetchSite: 'same-origin',
    });
    expect(new URL(result.location).searchParams.get('logout_hint')).toBe('opaque-hint');
  });

  it.each([
    ['a cross-site Origin', { origin: 'https://evil.test' }],
    ['Sec-Fetch-Site cross-site', { secFetchSite: 'cross-site' }],
    ['Sec-Fetch-Site same-site', { secFetchSite: 'same-site' }],
    ['neither header', {}],
    ['Origin null', { origin: 'null', secFetchSite: 'same-origin' }],
  ])(
    'when the POST has %s, then 403 invalid_request and the session survives',
    async (_label, headers) => {
      await expect(endSession(h.ctx, logoutRequest(headers))).rejects.toMatchObject({
        code: 'invalid_request',
        status: 403,
      });
      expect(await getCurrentUser(h.ctx, browser.jar())).toBeDefined();
    },
  );

  it('when there is no session, then it goes straight to the post-logout URL', async () => {
    const result = await endSession(h.ctx, {
      url: new URL(`${APP}/api/auth/logout`),
      cookies: {},
      origin: APP,
    });
    expect(result.location).toBe(`${APP}/`);
  });
});
