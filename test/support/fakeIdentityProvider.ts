import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import type { SigningKeys } from '../../src/ports/SigningKeys';
import { AuthError } from '../../src/auth/errors';
import type {
  AuthorizationRequest,
  CodeRedemption,
  IdentityProvider,
  IssuedAccessToken,
  IssuedTokens,
  ProviderMetadata,
  TokenRefresh,
} from '../../src/ports/IdentityProvider';

export const FAKE_TENANT = '11111111-2222-4333-8444-555555555555';
export const FAKE_CLIENT_ID = 'client-123';
export const FAKE_ISSUER = `https://idp.test/${FAKE_TENANT}/v2.0`;

/** A signing key and a key set that trusts it, for tokens made in tests. */
export async function testSigningKey(kid = 'test-key') {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const keys: SigningKeys = createLocalJWKSet({ keys: [jwk] });
  const sign = (claims: JWTPayload, header: Record<string, unknown> = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, ...header }).sign(privateKey);
  return { privateKey, keys, sign, kid };
}

let sharedKey: ReturnType<typeof testSigningKey> | undefined;

export function standardClaims(overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: FAKE_ISSUER,
    aud: FAKE_CLIENT_ID,
    sub: 'subject-1',
    oid: 'aaaaaaaa-0000-4000-8000-000000000001',
    tid: FAKE_TENANT,
    name: 'Adele Vance',
    preferred_username: 'adele@contoso.test',
    email: 'adele@contoso.test',
    roles: ['Admin'],
    groups: ['g1', 'g2'],
    ver: '2.0',
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...overrides,
  };
}

/**
 * An identity provider in process: the test plays the browser at the authorize endpoint with
 * authorize(), which returns the code the callback then redeems.
 */
export class FakeIdentityProvider implements IdentityProvider {
  readonly redeemed: CodeRedemption[] = [];
  private readonly codes = new Map<
    string,
    { nonce: string; claims: JWTPayload; codeChallenge: string }
  >();
  private readonly requests = new Map<string, AuthorizationRequest>();
  failNextRedemption?: Error;
  /** Token endpoint refreshes so far (the fake's count, as the emulator's for real runs). */
  refreshes: TokenRefresh[] = [];
  /** Refresh tokens that no longer work (revoked, expired). */
  readonly revokedRefreshTokens = new Set<string>();
  /** Scopes the user consented to; others answer consent_required. */
  consentedScopes = new Set(['user.read']);
  accessTokenSeconds = 3600;
  /** How long a refresh takes, so that concurrent requests overlap. */
  refreshDelayMs = 0;
  /** Makes the next refresh fail like an outage. */
  failNextRefresh?: Error;
  /** The time tokens are issued at: tests with a fake clock set it. */
  now: () => Date = () => new Date();
  private issued = 0;

  private constructor(
    readonly signingKeys: SigningKeys,
    private readonly sign: (claims: JWTPayload) => Promise<string>,
  ) {}

  static async create(): Promise<FakeIdentityProvider> {
    // RSA key generation is slow; one key serves every fake provider of a test file.
    sharedKey ??= testSigningKey();
    const key = await sharedKey;
    return new FakeIdentityProvider(key.keys, (claims) => key.sign(claims));
  }

  async metadata(): Promise<ProviderMetadata> {
    return {
      issuer: FAKE_ISSUER,
      jwksUri: 'https://idp.test/keys',
      endSessionEndpoint: `https://idp.test/${FAKE_TENANT}/oauth2/v2.0/logout`,
    };
  }

  async buildAuthorizationUrl(request: AuthorizationRequest): Promise<string> {
    this.requests.set(request.state, request);
    const url = new URL(`https://idp.test/${FAKE_TENANT}/oauth2/v2.0/authorize`);
    url.searchParams.set('state', request.state);
    return url.href;
  }

  /** The user signs in at the provider: returns the callback query for this state. */
  authorize(authorizeUrl: string, claims: JWTPayload = {}): { code: string; state: string } {
    const state = new URL(authorizeUrl).searchParams.get('state') as string;
    const request = this.requests.get(state);
    if (!request) throw new Error(`no authorization request for state ${state}`);
    const code = randomUUID();
    this.codes.set(code, { nonce: request.nonce, claims, codeChallenge: request.codeChallenge });
    return { code, state };
  }

  async redeemCode(
    redemption: CodeRedemption,
  ): Promise<{ idToken: string; tokens?: IssuedTokens }> {
    this.redeemed.push(redemption);
    if (this.failNextRedemption) {
      const error = this.failNextRedemption;
      this.failNextRedemption = undefined;
      throw error;
    }
    const grant = this.codes.get(redemption.code);
    this.codes.delete(redemption.code); // codes are single use, as at Entra
    if (!grant) {
      throw new AuthError('token_exchange_failed', 'invalid_grant: unknown or used code', {
        final: true,
      });
    }
    const { createHash } = await import('node:crypto');
    const challenge = createHash('sha256').update(redemption.codeVerifier).digest('base64url');
    if (challenge !== grant.codeChallenge)
      throw new AuthError('token_exchange_failed', 'invalid_grant: PKCE', { final: true });
    return {
      idToken: await this.sign(standardClaims({ nonce: grant.nonce, ...grant.claims })),
      tokens: { refreshToken: `rt-${randomUUID()}` },
    };
  }

  async refreshAccessToken(
    refresh: TokenRefresh,
  ): Promise<IssuedTokens & { accessToken: IssuedAccessToken }> {
    this.refreshes.push(refresh);
    if (this.refreshDelayMs) await new Promise((r) => setTimeout(r, this.refreshDelayMs));
    if (this.failNextRefresh) {
      const error = this.failNextRefresh;
      this.failNextRefresh = undefined;
      throw error;
    }
    if (this.revokedRefreshTokens.has(refresh.refreshToken)) {
      throw new AuthError('reauthentication_required', 'invalid_grant: AADSTS50173 revoked');
    }
    const missing = refresh.scopes.filter((s) => !this.consentedScopes.has(s.toLowerCase()));
    if (missing.length > 0) {
      throw new AuthError('consent_required', `invalid_grant: AADSTS65001 (${missing.join(' ')})`);
    }
    const issuedAt = this.now().getTime();
    return {
      accessToken: {
        token: `at-${++this.issued}-${randomUUID()}`,
        scopes: [...refresh.scopes],
        expiresAt: new Date(issuedAt + this.accessTokenSeconds * 1000),
      },
      refreshToken: `rt-${randomUUID()}`,
    };
  }
}
