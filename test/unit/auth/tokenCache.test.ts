import { findUsable, refreshAtMs, type TokenCacheContents } from '../../../src/auth/tokenCache';

const HOUR_MS = 60 * 60 * 1000;

function cacheWith(issuedAtMs: number, lifetimeMs: number): TokenCacheContents {
  return {
    v: 1,
    accessTokens: [
      { token: 't', scopes: ['User.Read'], issuedAtMs, expiresAtMs: issuedAtMs + lifetimeMs },
    ],
  };
}

describe('when an access token is due for refresh', () => {
  it('when it lives an hour, then it is used until 5 minutes before its expiry', () => {
    const contents = cacheWith(0, HOUR_MS);
    expect(refreshAtMs(contents.accessTokens[0]!)).toBe(HOUR_MS - 5 * 60 * 1000);
    expect(findUsable(contents, ['user.read'], HOUR_MS - 5 * 60 * 1000 - 1)).toBeDefined();
    expect(findUsable(contents, ['user.read'], HOUR_MS - 5 * 60 * 1000)).toBeUndefined();
  });

  it('when it lives a minute, then it is refreshed a tenth of its life early', () => {
    expect(refreshAtMs(cacheWith(0, 60_000).accessTokens[0]!)).toBe(54_000);
  });

  it('when it lives only seconds, then it is refreshed at least 2 seconds early (whole-second expiries)', () => {
    expect(refreshAtMs(cacheWith(0, 10_000).accessTokens[0]!)).toBe(8_000);
    // A 1-second token is never handed out: the API may already count it as expired.
    expect(findUsable(cacheWith(0, 1_000), ['user.read'], 0)).toBeUndefined();
  });
});
