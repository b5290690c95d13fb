import type { AuthContext } from '../../../src/auth/AuthContext';
import {
  getAccessToken,
  REFRESH_LEASE_SECONDS,
  type SessionTokens,
} from '../../../src/auth/accessTokens';
import { AuthError } from '../../../src/auth/errors';
import { randomToken, SESSION_SECRET_BYTES } from '../../../src/auth/secrets';
import { sessionKeyOf } from '../../../src/auth/sessions';
import { SingleFlight } from '../../../src/auth/singleFlight';
import { openTokenCache, sealTokenCache } from '../../../src/auth/tokenCache';
import { createHarness, type Harness } from '../../support/flowHarness';

const USER_READ = { scopes: ['User.Read'] };

/** A signed-in session whose token cache holds a refresh token and no access token yet. */
function seedSession(h: Harness, refreshToken = 'rt-initial'): SessionTokens {
  const secret = randomToken(SESSION_SECRET_BYTES);
  const key = sessionKeyOf(h.store.partitionFor(h.clock.now()), secret);
  h.store.tokenCaches.create(
    key,
    sealTokenCache({ v: 1, refreshToken, accessTokens: [] }, secret, key),
  );
  return { key, secret };
}

/** Another instance of the app: same store and provider, its own in-process single flight. */
function instance(h: Harness): AuthContext {
  return { ...h.ctx, refreshes: new SingleFlight() };
}

async function contentsOf(h: Harness, session: SessionTokens) {
  const stored = await h.store.tokenCaches.readTokenCache(session.key);
  return {
    lease: stored?.lease,
    contents: stored && openTokenCache(stored.sealed, session.secret, session.key),
  };
}

/**
 * A session whose token is due for refresh (4 minutes left) and whose refresh just failed with
 * `error`: the cached token served anyway.
 */
async function servedWhileRefreshFails(error: AuthError) {
  const h = await createHarness();
  const session = seedSession(h);
  const first = await getAccessToken(h.ctx, session, USER_READ);
  h.clock.advance(3600 - 4 * 60); // due for refresh (5-minute margin), 4 minutes left
  h.idp.failNextRefresh = error;
  await expect(getAccessToken(h.ctx, session, USER_READ)).resolves.toMatchObject({
    token: first.token,
  });
  return { h, session, first };
}

describe('getAccessToken', () => {
  it('when no token is cached, then one refresh; the next call is a cache hit', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    const first = await getAccessToken(h.ctx, session, USER_READ);
    const second = await getAccessToken(h.ctx, session, { scopes: ['user.read', 'openid'] });
    expect(second.token).toBe(first.token);
    expect(h.idp.refreshes).toHaveLength(1);
    expect(h.idp.refreshes[0]).toMatchObject({ refreshToken: 'rt-initial', scopes: ['User.Read'] });
  });

  it('when the token nears expiry, then it is refreshed with the rotated refresh token', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    const first = await getAccessToken(h.ctx, session, USER_READ);
    h.clock.advance(3600 - 5 * 60 + 1); // inside the 5-minute margin
    const second = await getAccessToken(h.ctx, session, USER_READ);
    expect(second.token).not.toBe(first.token);
    expect(h.idp.refreshes).toHaveLength(2);
    expect(h.idp.refreshes[1]?.refreshToken).not.toBe('rt-initial');
    const { lease } = await contentsOf(h, session);
    expect(lease).toBeUndefined();
  });

  it('when 50 requests on 3 instances find the token expired, then 50 tokens come from 1 refresh', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.idp.refreshDelayMs = 100;
    const instances = [instance(h), instance(h), instance(h)];
    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        getAccessToken(instances[i % 3] as AuthContext, session, USER_READ),
      ),
    );
    expect(h.idp.refreshes).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
  });

  it('when 20 requests on one instance find the token expired, then they share one refresh and do not poll the table', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.idp.refreshDelayMs = 150;
    await Promise.all(Array.from({ length: 20 }, () => getAccessToken(h.ctx, session, USER_READ)));
    expect(h.idp.refreshes).toHaveLength(1);
    // 20 cache lookups, the first of which starts the one refresh: no request waits on the lease.
    expect(h.store.tokenCaches.reads).toBe(20);
    expect(h.store.tokenCaches.writes).toBe(2); // the lease, then the result
  });

  it('when the refresh token was revoked, then reauthentication_required for every waiter, the refresh token is dropped and nothing is left leased', async () => {
    const h = await createHarness();
    const session = seedSession(h, 'rt-revoked');
    h.idp.revokedRefreshTokens.add('rt-revoked');
    h.idp.refreshDelayMs = 50;
    const instances = [instance(h), instance(h), instance(h)];
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        getAccessToken(instances[i % 3] as AuthContext, session, USER_READ),
      ),
    );
    expect(h.idp.refreshes).toHaveLength(1);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as AuthError;
      expect(error.code).toBe('reauthentication_required');
      expect(error.signIn?.scopes).toEqual(['User.Read']);
    }
    const { lease, contents } = await contentsOf(h, session);
    expect(lease).toBeUndefined();
    expect(contents?.refreshToken).toBeUndefined();
    // Later requests know without asking the token endpoint again.
    await expect(getAccessToken(h.ctx, session, USER_READ)).rejects.toMatchObject({
      code: 'reauthentication_required',
    });
    expect(h.idp.refreshes).toHaveLength(1);
  });

  it('when the scope is not consented, then consent_required and the refresh token is kept', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    await expect(getAccessToken(h.ctx, session, { scopes: ['Mail.Read'] })).rejects.toMatchObject({
      code: 'consent_required',
      signIn: { scopes: ['Mail.Read'] },
    });
    const { contents } = await contentsOf(h, session);
    expect(contents?.refreshToken).toBe('rt-initial');
    h.idp.consentedScopes.add('mail.read');
    await expect(getAccessToken(h.ctx, session, { scopes: ['Mail.Read'] })).resolves.toMatchObject({
      scopes: ['Mail.Read'],
    });
  });

  it('when the token endpoint is down, then its error; the lease is released and the next request refreshes', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.idp.failNextRefresh = new AuthError('token_exchange_failed', 'timeout');
    await expect(getAccessToken(h.ctx, session, USER_READ)).rejects.toMatchObject({
      code: 'token_exchange_failed',
    });
    expect((await contentsOf(h, session)).lease).toBeUndefined();
    await expect(getAccessToken(h.ctx, session, USER_READ)).resolves.toBeDefined();
    expect(h.idp.refreshes).toHaveLength(2);
  });

  it('when a refresh fails while the cached token has not expired yet, then that token still serves; once it has, the error', async () => {
    const { h, session } = await servedWhileRefreshFails(
      new AuthError('idp_throttled', 'slow down', { retryAfterSeconds: 30 }),
    );
    expect((await contentsOf(h, session)).lease).toBeUndefined();
    h.clock.advance(4 * 60);
    h.idp.failNextRefresh = new AuthError('idp_throttled', 'slow down', { retryAfterSeconds: 30 });
    await expect(getAccessToken(h.ctx, session, USER_READ)).rejects.toMatchObject({
      code: 'idp_throttled',
    });
    // After a claims challenge the API has refused that token: it is never served again.
    const h2 = await createHarness();
    const s2 = seedSession(h2);
    await getAccessToken(h2.ctx, s2, USER_READ);
    h2.clock.advance(60);
    h2.idp.failNextRefresh = new AuthError('token_exchange_failed', 'down');
    await expect(
      getAccessToken(h2.ctx, s2, { ...USER_READ, claims: '{"access_token":{}}' }),
    ).rejects.toMatchObject({ code: 'token_exchange_failed' });
  });

  it('when a refresh is throttled while the cached token has not expired, then every request on any instance gets that token without a table write or a token call until the Retry-After is over, then one refresh', async () => {
    const { h, session, first } = await servedWhileRefreshFails(
      new AuthError('idp_throttled', 'slow down', { retryAfterSeconds: 30 }),
    );
    const [calls, writes] = [h.idp.refreshes.length, h.store.tokenCaches.writes];
    h.clock.advance(20);
    const instances = [instance(h), instance(h), instance(h)];
    const during = await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        getAccessToken(instances[i % 3] as AuthContext, session, USER_READ),
      ),
    );
    expect(new Set(during.map((t) => t.token))).toEqual(new Set([first.token]));
    expect([h.idp.refreshes.length, h.store.tokenCaches.writes]).toEqual([calls, writes]);
    h.clock.advance(10.001);
    const after = await getAccessToken(instance(h), session, USER_READ);
    expect(after.token).not.toBe(first.token);
    expect(h.idp.refreshes).toHaveLength(calls + 1);
  });

  it('when a refresh is throttled and no token is left to serve, then idp_throttled with the seconds still to wait on any instance, without asking the token endpoint again', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.idp.failNextRefresh = new AuthError('idp_throttled', 'slow down', { retryAfterSeconds: 30 });
    await expect(getAccessToken(h.ctx, session, USER_READ)).rejects.toMatchObject({
      code: 'idp_throttled',
      retryAfterSeconds: 30,
    });
    h.clock.advance(10);
    const writes = h.store.tokenCaches.writes;
    await expect(getAccessToken(instance(h), session, USER_READ)).rejects.toMatchObject({
      code: 'idp_throttled',
      retryAfterSeconds: 20,
    });
    expect([h.idp.refreshes.length, h.store.tokenCaches.writes]).toEqual([1, writes]);
    h.clock.advance(20.001);
    await expect(getAccessToken(instance(h), session, USER_READ)).resolves.toBeDefined();
    expect(h.idp.refreshes).toHaveLength(2);
  });

  it("when one API's refresh is throttled, then another API's first token is still asked for", async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.idp.consentedScopes.add('mail.read');
    h.idp.failNextRefresh = new AuthError('idp_throttled', 'slow down', { retryAfterSeconds: 600 });
    await expect(getAccessToken(h.ctx, session, { scopes: ['Mail.Read'] })).rejects.toMatchObject({
      code: 'idp_throttled',
    });
    await expect(getAccessToken(instance(h), session, USER_READ)).resolves.toMatchObject({
      scopes: ['User.Read'],
    });
    expect(h.idp.refreshes).toHaveLength(2);
  });

  it('when the provider throttles with Retry-After 0, then nothing is paused', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.idp.failNextRefresh = new AuthError('idp_throttled', 'slow down', { retryAfterSeconds: 0 });
    await expect(getAccessToken(h.ctx, session, USER_READ)).rejects.toMatchObject({
      code: 'idp_throttled',
    });
    expect((await contentsOf(h, session)).contents?.refreshPause).toBeUndefined();
    await expect(getAccessToken(h.ctx, session, USER_READ)).resolves.toBeDefined();
  });

  it('when requests on other instances wait on a refresh that fails (the provider down) and no token is left, then they fail with it instead of asking the provider in turn', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.idp.refreshDelayMs = 50;
    h.idp.failNextRefresh = new AuthError('token_exchange_failed', 'timeout');
    const results = await Promise.allSettled(
      [instance(h), instance(h), instance(h)].map((ctx) => getAccessToken(ctx, session, USER_READ)),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const result of results) {
      expect((result as PromiseRejectedResult).reason).toMatchObject({
        code: 'token_exchange_failed',
      });
    }
    expect(h.idp.refreshes).toHaveLength(1);
    // A request that starts after the failure tries again.
    await expect(getAccessToken(h.ctx, session, USER_READ)).resolves.toBeDefined();
    expect(h.idp.refreshes).toHaveLength(2);
  });

  it('when the token endpoint is down while the cached token has not expired, then the requests of the next 30 s get that token at once, without waiting on the endpoint again', async () => {
    const { h, session, first } = await servedWhileRefreshFails(
      new AuthError('token_exchange_failed', 'timeout'),
    );
    const calls = h.idp.refreshes.length;
    h.clock.advance(29);
    await expect(getAccessToken(instance(h), session, USER_READ)).resolves.toMatchObject({
      token: first.token,
    });
    expect(h.idp.refreshes).toHaveLength(calls);
    h.clock.advance(1.001);
    const after = await getAccessToken(instance(h), session, USER_READ);
    expect(after.token).not.toBe(first.token);
    expect(h.idp.refreshes).toHaveLength(calls + 1);
  });

  it('when a request waits on a refresh that fails for a while, then an older refusal kept in the cache is not its outcome', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    const mail = { scopes: ['Mail.Read'] };
    await expect(getAccessToken(h.ctx, session, mail)).rejects.toMatchObject({
      code: 'consent_required',
    });
    // Consent granted since. A refresh on one instance fails for a while (and leaves the
    // cache, with that old refusal, as it was); a request on another waited for it.
    h.clock.advance(60);
    h.idp.consentedScopes.add('mail.read');
    h.idp.refreshDelayMs = 50;
    h.idp.failNextRefresh = new AuthError('token_exchange_failed', 'timeout');
    const failing = getAccessToken(instance(h), session, mail);
    const waiting = getAccessToken(instance(h), session, mail);
    await expect(failing).rejects.toMatchObject({ code: 'token_exchange_failed' });
    // The waiter's outcome is the refresh it waited for, not the old consent_required.
    await expect(waiting).rejects.toMatchObject({ code: 'token_exchange_failed' });
    await expect(getAccessToken(h.ctx, session, mail)).resolves.toMatchObject({
      scopes: ['Mail.Read'],
    });
  });

  it('when a lease holder died, then the lease is taken over once it has run out', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    const stored = await h.store.tokenCaches.readTokenCache(session.key);
    const until = new Date(h.clock.now().getTime() + REFRESH_LEASE_SECONDS * 1000);
    await h.store.tokenCaches.replaceTokenCache(
      session.key,
      { sealed: stored!.sealed, lease: { id: 'crashed', until } },
      stored!.version,
    );
    const readsBefore = h.store.tokenCaches.reads;
    const waiting = getAccessToken(h.ctx, session, USER_READ);
    // Until it has found the live lease and read the row again: polling, not refreshing.
    while (h.store.tokenCaches.reads < readsBefore + 2) await new Promise((r) => setTimeout(r, 5));
    expect(h.idp.refreshes).toHaveLength(0); // it waits while the lease runs
    h.clock.advance(REFRESH_LEASE_SECONDS + 1);
    await expect(waiting).resolves.toBeDefined();
    expect(h.idp.refreshes).toHaveLength(1);
  });

  it('when a claims challenge is given, then the cache is skipped and the claims go to the refresh', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    const cached = await getAccessToken(h.ctx, session, USER_READ);
    const claims = '{"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}';
    const fresh = await getAccessToken(h.ctx, session, { ...USER_READ, claims });
    expect(fresh.token).not.toBe(cached.token);
    expect(h.idp.refreshes[1]?.claims).toBe(claims);
  });

  it('when the session has no token cache or a foreign one, then reauthentication_required', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    await expect(
      getAccessToken(h.ctx, { ...session, secret: randomToken(SESSION_SECRET_BYTES) }, USER_READ),
    ).rejects.toMatchObject({ code: 'reauthentication_required' });
    await h.store.tokenCaches.deleteTokenCache(session.key);
    await expect(getAccessToken(h.ctx, session, USER_READ)).rejects.toMatchObject({
      code: 'reauthentication_required',
    });
    expect(h.idp.refreshes).toHaveLength(0);
  });
});
