import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { Configuration, CookieOptions, Interaction, KoaContext } from 'oidc-provider';

type InteractionPolicy = ReturnType<(typeof import('oidc-provider'))['interactionPolicy']['base']>;
import type { EmulatorClient } from './emulator';
import type { TestUser } from './users';
import { messagePage } from './pages';
import { entraClaims } from './users';

/**
 * oidc-provider's configuration for an Entra look-alike: confidential clients with pairwise
 * `sub`, Entra's claims by scope, its paths, PKCE required, refresh tokens as Entra issues them.
 */

const SECONDS_PER_DAY = 24 * 60 * 60;

export interface ProviderSetup {
  tenantId: string;
  authority: string;
  clients: EmulatorClient[];
  usersByOid: ReadonlyMap<string, TestUser>;
  signingKey: JsonWebKey & { kid: string };
  sessionCookie: CookieOptions;
  policy: InteractionPolicy;
}

export function providerConfiguration(setup: ProviderSetup): Configuration {
  const { tenantId, authority, clients, usersByOid, sessionCookie, policy } = setup;
  const tokenSigningKey = setup.signingKey;
  return {
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      // MSAL sends the secret in the body.
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      // Entra's `sub` is pairwise (per user and app), unlike `oid`.
      subject_type: 'pairwise',
      // Needed by oidc-provider for pairwise clients whose redirect URIs span hosts; never fetched.
      sector_identifier_uri: `${authority}/sector/${encodeURIComponent(client.clientId)}`,
    })),
    sectorIdentifierUriValidate: () => false,
    pairwiseIdentifier: (_ctx: KoaContext, accountId: string, client: { clientId: string }) =>
      createHash('sha256')
        .update(`${tenantId}\n${client.clientId}\n${accountId}`)
        .digest('base64url'),
    findAccount: (_ctx, id) => {
      const user = usersByOid.get(id);
      if (!user) return undefined;
      return {
        accountId: user.oid,
        claims: async (use: string) => entraClaims(user, tenantId, use),
      };
    },
    // Entra decides by scope which claims go into the ID token; profile and email included.
    conformIdTokenClaims: false,
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: {
      openid: [
        'sub',
        'tid',
        'ver',
        'nbf',
        'roles',
        'groups',
        'login_hint',
        '_claim_names',
        '_claim_sources',
      ],
      profile: ['name', 'preferred_username', 'oid'],
      email: ['email'],
    },
    subjectTypes: ['pairwise'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
    jwks: { keys: [tokenSigningKey] },
    cookies: {
      names: {
        session: 'entra_emulator_session',
        interaction: 'entra_emulator_interaction',
        resume: 'entra_emulator_resume',
      },
      long: sessionCookie,
      short: { httpOnly: true, sameSite: 'lax' },
    },
    routes: {
      authorization: '/oauth2/v2.0/authorize',
      token: '/oauth2/v2.0/token',
      jwks: '/discovery/v2.0/keys',
      end_session: '/oauth2/v2.0/logout',
      userinfo: '/oidc/userinfo',
    },
    interactions: {
      policy,
      url: (_ctx: KoaContext, interaction: Interaction) => `/${tenantId}/login/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Never shown: entraLikeLogout (below) ends the session and redirects straight away.
        logoutSource: async (ctx: KoaContext) => {
          ctx.body = '';
        },
        postLogoutSuccessSource: async (ctx: KoaContext) => {
          ctx.type = 'html';
          ctx.body = messagePage('Signed out', 'You signed out of the Entra ID emulator.');
        },
      },
    },
    // Entra's refresh tokens outlive the browser session and are issued whenever
    // offline_access is asked for (MSAL always asks).
    expiresWithSession: async () => false,
    issueRefreshToken: async (
      _ctx: KoaContext,
      client: { grantTypeAllowed(type: string): boolean },
      code: { scope?: string; scopes: Set<string> },
    ) => {
      if (!client.grantTypeAllowed('refresh_token') || !code.scopes.has('openid')) return false;
      // oidc-provider drops offline_access from the authorization request unless prompt=consent;
      // without it in the refresh token's scope, MSAL's refresh fails with invalid_scope.
      if (!code.scopes.has('offline_access')) code.scope = `${code.scope} offline_access`;
      return true;
    },
    // Entra keeps a used refresh token valid (it hands out a new one too); single-use rotation
    // would make oidc-provider revoke the whole grant when MSAL's cache reuses an older one.
    rotateRefreshToken: false,
    ttl: {
      AccessToken: 60 * 60,
      AuthorizationCode: 10 * 60,
      IdToken: 60 * 60,
      RefreshToken: 14 * SECONDS_PER_DAY,
      Interaction: 60 * 60,
      Session: SECONDS_PER_DAY,
      Grant: 14 * SECONDS_PER_DAY,
    },
    clientBasedCORS: () => false,
    renderError: async (ctx: KoaContext, out: { error?: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = messagePage(
        'Sign-in error',
        `${out.error ?? 'server_error'}: ${out.error_description ?? 'unexpected error'}`,
      );
    },
  };
}

/** A fresh RS256 signing key per start, with an RFC 7638 thumbprint as kid. */
export function signingKey(): JsonWebKey & { kid: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { ...jwk, kid: thumbprint, alg: 'RS256', use: 'sig' };
}
