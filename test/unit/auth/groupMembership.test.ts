import type { SessionTokens } from '../../../src/auth/accessTokens';
import { completeLogin } from '../../../src/auth/completeLogin';
import { AuthError } from '../../../src/auth/errors';
import {
  groupsOfRequestUser,
  groupsOfSessionUser,
  MAX_GROUP_PAGES,
} from '../../../src/auth/groupMembership';
import { randomToken, SESSION_SECRET_BYTES } from '../../../src/auth/secrets';
import { getCurrentUser, sessionKeyOf } from '../../../src/auth/sessions';
import { startLogin } from '../../../src/auth/startLogin';
import { sealTokenCache } from '../../../src/auth/tokenCache';
import type { UserClaims } from '../../../src/ports/AuthStore';
import { APP, createHarness, FakeBrowser, type Harness } from '../../support/flowHarness';

/** Resolving a session user's groups on overage, with fakes for Graph and the stores. */

const OVERAGE: UserClaims = { oid: 'o1', tid: 't1', roles: [], groups: [], groupsOverage: true };

function seedSession(h: Harness): SessionTokens {
  const secret = randomToken(SESSION_SECRET_BYTES);
  const key = sessionKeyOf(h.store.partitionFor(h.clock.now()), secret);
  h.store.tokenCaches.create(
    key,
    sealTokenCache({ v: 1, refreshToken: 'rt', accessTokens: [] }, secret, key),
  );
  return { key, secret };
}

describe('groupsOfSessionUser', () => {
  it('when the token carried the groups, then they are the answer and Graph is not asked', async () => {
    const h = await createHarness();
    const groups = await groupsOfSessionUser(h.ctx, seedSession(h), {
      ...OVERAGE,
      groups: ['a'],
      groupsOverage: undefined,
    });
    expect(groups).toEqual(['a']);
    expect(h.groupDirectory.calls).toHaveLength(0);
    expect(h.sessionGroups.reads).toBe(0);
  });

  it('when on overage, then Graph is asked once with a User.Read token, bounded by the IdP timeout, and the answer kept', async () => {
    const h = await createHarness({ idpTimeoutMs: 1234 });
    h.groupDirectory.groupIds = ['g1', 'g2', 'g1'];
    const session = seedSession(h);
    expect(await groupsOfSessionUser(h.ctx, session, OVERAGE)).toEqual(['g1', 'g2']);
    expect(await groupsOfSessionUser(h.ctx, session, OVERAGE)).toEqual(['g1', 'g2']);
    expect(h.groupDirectory.calls).toHaveLength(1);
    expect(h.groupDirectory.calls[0]?.bounds).toEqual({
      pageTimeoutMs: 1234,
      overallTimeoutMs: 1234,
      maxPages: MAX_GROUP_PAGES,
    });
    expect(h.idp.refreshes[0]?.scopes).toEqual(['User.Read']);
    expect((await h.sessionGroups.readSessionGroups(session.key))?.groupIds).toEqual(['g1', 'g2']);
  });

  it('when concurrent requests of one session need the groups, then Graph is asked once', async () => {
    const h = await createHarness();
    h.groupDirectory.groupIds = ['g1'];
    const session = seedSession(h);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => groupsOfSessionUser(h.ctx, session, OVERAGE)),
    );
    expect(answers.every((a) => a.join() === 'g1')).toBe(true);
    expect(h.groupDirectory.calls).toHaveLength(1);
  });

  it('when Graph fails, then its groups_unavailable goes through and nothing is kept (the next request asks again)', async () => {
    const h = await createHarness();
    const session = seedSession(h);
    h.groupDirectory.failure = new AuthError('groups_unavailable', 'Graph down');
    await expect(groupsOfSessionUser(h.ctx, session, OVERAGE)).rejects.toMatchObject({
      code: 'groups_unavailable',
    });
    expect(await h.sessionGroups.readSessionGroups(session.key)).toBeUndefined();
    h.groupDirectory.failure = undefined;
    h.groupDirectory.groupIds = ['g9'];
    expect(await groupsOfSessionUser(h.ctx, session, OVERAGE)).toEqual(['g9']);
  });

  it('when keeping the answer fails, then the request still gets it (and a warning is logged)', async () => {
    const h = await createHarness();
    h.groupDirectory.groupIds = ['g1'];
    h.sessionGroups.writeSessionGroups = () => Promise.reject(new Error('table down'));
    expect(await groupsOfSessionUser(h.ctx, seedSession(h), OVERAGE)).toEqual(['g1']);
    expect(h.logs.some((l) => l.includes('resolved groups not kept'))).toBe(true);
  });
});

describe('groupsOfRequestUser (what groupsOfUser gives a handler)', () => {
  /** A browser signed in through the use cases as a user whose ID token has the overage marker. */
  async function signedInWithOverage(h: Harness, oid: string): Promise<FakeBrowser> {
    const browser = new FakeBrowser(h.clock);
    const started = await startLogin(h.ctx, { url: new URL(`${APP}/api/auth/login`), cookies: {} });
    browser.apply(started.cookies);
    const params = h.idp.authorize(started.location, {
      oid,
      groups: undefined,
      _claim_names: { groups: 'src1' },
      _claim_sources: {
        src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/x/getMemberObjects' },
      },
    });
    const done = await completeLogin(h.ctx, {
      url: new URL(`${APP}/api/auth/callback?${new URLSearchParams(params)}`),
      cookies: browser.jar(),
    });
    browser.apply(done.cookies);
    return browser;
  }

  it("when the user is the session's own, then the groups come from Graph", async () => {
    const h = await createHarness();
    h.groupDirectory.groupIds = ['g-of-a'];
    const browser = await signedInWithOverage(h, 'user-a');
    const current = await getCurrentUser(h.ctx, browser.jar());
    expect(current?.user.groupsOverage).toBe(true);
    expect(await groupsOfRequestUser(h.ctx, browser.jar(), current!.user)).toEqual(['g-of-a']);
  });

  it("when the user is another's (a bearer caller's) than the cookie's session, then groups_unavailable (403) and Graph is not asked", async () => {
    const h = await createHarness();
    h.groupDirectory.groupIds = ['g-of-a'];
    const browser = await signedInWithOverage(h, 'user-a');
    const bearerUser: UserClaims = { ...OVERAGE, oid: 'user-b', tid: 'tid-b' };
    await expect(groupsOfRequestUser(h.ctx, browser.jar(), bearerUser)).rejects.toMatchObject({
      code: 'groups_unavailable',
      status: 403,
    });
    await expect(groupsOfRequestUser(h.ctx, {}, bearerUser)).rejects.toMatchObject({
      code: 'groups_unavailable',
    });
    expect(h.groupDirectory.calls).toHaveLength(0);
  });

  it('when the session has expired, then groups_unavailable, not the groups kept beside it', async () => {
    const h = await createHarness();
    h.groupDirectory.groupIds = ['g-of-a'];
    const browser = await signedInWithOverage(h, 'user-a');
    const user = (await getCurrentUser(h.ctx, browser.jar()))!.user;
    expect(await groupsOfRequestUser(h.ctx, browser.jar(), user)).toEqual(['g-of-a']);
    const jar = browser.jar();
    h.clock.advance(3601);
    await expect(groupsOfRequestUser(h.ctx, jar, user)).rejects.toMatchObject({
      code: 'groups_unavailable',
    });
  });
});
