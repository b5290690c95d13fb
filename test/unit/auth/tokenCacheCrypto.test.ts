import { randomToken, SESSION_SECRET_BYTES } from '../../../src/auth/secrets';
import {
  MAX_ACCESS_TOKENS,
  openTokenCache,
  sealTokenCache,
  type TokenCacheContents,
} from '../../../src/auth/tokenCache';
import { open, seal, tokenCacheKey } from '../../../src/auth/tokenCacheCrypto';
import { MAX_SEALED_TOKEN_CACHE_BYTES } from '../../../src/ports/TokenCacheStore';

const session = { partition: 'b0000000001-07', id: 'hash-of-the-secret' };

describe('token cache encryption', () => {
  it('when sealed with the session secret, then it opens with that secret and holds no plaintext', () => {
    const secret = randomToken(SESSION_SECRET_BYTES);
    const sealed = seal('refresh-token-value', secret, session);
    expect(Buffer.from(sealed).toString('latin1')).not.toContain('refresh-token-value');
    expect(open(sealed, secret, session)).toBe('refresh-token-value');
  });

  it('when opened with another secret, then nothing comes out', () => {
    const sealed = seal('x', randomToken(SESSION_SECRET_BYTES), session);
    expect(open(sealed, randomToken(SESSION_SECRET_BYTES), session)).toBeUndefined();
  });

  it("when the blob is moved to another session's row, then the associated data refuses it", () => {
    const secret = randomToken(SESSION_SECRET_BYTES);
    const sealed = seal('x', secret, session);
    expect(open(sealed, secret, { ...session, id: 'another-hash' })).toBeUndefined();
    expect(open(sealed, secret, { ...session, partition: 'b0000000001-08' })).toBeUndefined();
  });

  it('when one byte of the blob is changed, then GCM refuses it', () => {
    const secret = randomToken(SESSION_SECRET_BYTES);
    const sealed = seal('some contents', secret, session);
    sealed[20] = (sealed[20] as number) ^ 1;
    expect(open(sealed, secret, session)).toBeUndefined();
  });

  it('when the same contents are sealed twice, then the blobs differ (a fresh IV per write)', () => {
    const secret = randomToken(SESSION_SECRET_BYTES);
    expect(Buffer.from(seal('x', secret, session))).not.toEqual(
      Buffer.from(seal('x', secret, session)),
    );
  });

  it('derives a 256-bit key that depends on the secret alone', () => {
    const secret = randomToken(SESSION_SECRET_BYTES);
    expect(tokenCacheKey(secret)).toHaveLength(32);
    expect(tokenCacheKey(secret)).toEqual(tokenCacheKey(secret));
    expect(tokenCacheKey(secret)).not.toEqual(tokenCacheKey(randomToken(SESSION_SECRET_BYTES)));
  });

  it('when the access tokens would not fit 64 KiB, then those nearest expiry are dropped and the refresh token stays', () => {
    const secret = randomToken(SESSION_SECRET_BYTES);
    const big = (n: number) => ({
      token: 'a'.repeat(20_000),
      scopes: [`scope${n}`],
      issuedAtMs: 0,
      expiresAtMs: 1_000 + n,
    });
    const contents: TokenCacheContents = {
      v: 1,
      refreshToken: 'r'.repeat(2_000),
      accessTokens: Array.from({ length: MAX_ACCESS_TOKENS }, (_, n) => big(n)),
    };
    const sealed = sealTokenCache(contents, secret, session);
    expect(sealed.length).toBeLessThanOrEqual(MAX_SEALED_TOKEN_CACHE_BYTES);
    const opened = openTokenCache(sealed, secret, session);
    expect(opened?.refreshToken).toBe(contents.refreshToken);
    expect(opened?.accessTokens.length).toBe(3);
    expect(opened?.accessTokens.map((t) => t.scopes[0])).toEqual(['scope7', 'scope6', 'scope5']);
  });
});
