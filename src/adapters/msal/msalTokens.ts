import {
  AuthError as MsalAuthError,
  ConfidentialClientApplication,
  InteractionRequiredAuthError,
  type AuthenticationResult,
  type Configuration,
} from '@azure/msal-node';
import { AuthError, type ReasonCode } from '../../auth/errors';
import { OPENID_SCOPES } from '../../auth/tokenCache';
import type { IssuedAccessToken, IssuedTokens, TokenRefresh } from '../../ports/IdentityProvider';
import { throttleSecondsOf } from './BoundedNetworkClient';
import { describeUpstreamError } from './describeUpstreamError';

/**
 * Tokens for APIs through msal-node, one throwaway client per token request.
 *
 * Why not MSAL's own cache (acquireTokenSilent with a cache plugin): the session's token cache is
 * ours (encrypted with the browser's secret, one lease per refresh across instances), and MSAL's
 * serialised cache holds more than a refresh needs (ID tokens, accounts, app metadata). So the
 * refresh token goes through `acquireTokenByRefreshToken`; MSAL still does the protocol (client
 * assertion, claims and client capabilities, Entra's error mapping). A client of its own per
 * request keeps users apart (no shared in-memory cache, no shared throttling) and lets the
 * rotated refresh token be read back from that client's cache: msal-node returns it nowhere else.
 */

export async function refreshWithMsal(
  configuration: Configuration,
  refresh: TokenRefresh,
): Promise<IssuedTokens & { accessToken: IssuedAccessToken }> {
  const client = new ConfidentialClientApplication(configuration);
  let result: AuthenticationResult | null;
  try {
    result = await client.acquireTokenByRefreshToken({
      refreshToken: refresh.refreshToken,
      scopes: [...refresh.scopes],
      claims: refresh.claims,
      // Without an account in this fresh cache MSAL would not store the response, and the
      // rotated refresh token would be lost.
      forceCache: true,
    });
  } catch (error) {
    // Throttled (429, or a 5xx with Retry-After): the wait goes to the caller, as at sign-in.
    const waitSeconds = throttleSecondsOf(error);
    if (waitSeconds !== undefined) {
      throw new AuthError(
        'idp_throttled',
        `token refresh throttled: ${describeUpstreamError(error)}`,
        {
          cause: error,
          retryAfterSeconds: waitSeconds,
          details: `Wait ${waitSeconds} seconds and try again.`,
        },
      );
    }
    const code = reasonOfTokenError(error);
    throw new AuthError(code, `token refresh failed: ${describeUpstreamError(error)}`, {
      cause: error,
    });
  }
  const accessToken = result && accessTokenOf(result);
  if (!accessToken) {
    throw new AuthError('token_exchange_failed', 'token refresh returned no access token');
  }
  return { accessToken, refreshToken: await refreshTokenIn(client) };
}

/** After a code redemption on a fresh client: what the session's token cache starts with. */
export async function issuedTokensOf(
  client: ConfidentialClientApplication,
  result: AuthenticationResult,
): Promise<IssuedTokens> {
  return {
    refreshToken: await refreshTokenIn(client),
    accessToken: accessTokenOf(result),
  };
}

function accessTokenOf(result: AuthenticationResult): IssuedAccessToken | undefined {
  const scopes = result.scopes.filter((s) => !OPENID_SCOPES.has(s.toLowerCase()));
  if (!result.accessToken || !result.expiresOn || scopes.length === 0) return undefined;
  return { token: result.accessToken, scopes, expiresAt: result.expiresOn };
}

/** The one refresh token in a client's cache (a fresh client holds one user's tokens only). */
async function refreshTokenIn(client: ConfidentialClientApplication): Promise<string | undefined> {
  const serialised = JSON.parse(client.getTokenCache().serialize()) as {
    RefreshToken?: Record<string, { secret?: string }>;
  };
  const secrets = Object.values(serialised.RefreshToken ?? {})
    .map((entry) => entry.secret)
    .filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
  return secrets[0];
}

/**
 * Entra's answers to a refresh: consent missing (AADSTS65001, suberror consent_required), the
 * refresh token unusable (invalid_grant: revoked, expired, password changed) or an interaction
 * needed (interaction_required: MFA, conditional access).
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 * @see https://datatracker.ietf.org/doc/html/rfc6749#section-5.2
 */
export function reasonOfTokenError(error: unknown): ReasonCode {
  if (!(error instanceof MsalAuthError)) return 'token_exchange_failed';
  const { errorCode, subError, errorMessage } = error;
  if (
    subError === 'consent_required' ||
    errorCode === 'consent_required' ||
    /\bAADSTS65001\b/.test(errorMessage)
  ) {
    return 'consent_required';
  }
  if (
    error instanceof InteractionRequiredAuthError ||
    ['invalid_grant', 'interaction_required', 'login_required'].includes(errorCode)
  ) {
    return 'reauthentication_required';
  }
  return 'token_exchange_failed';
}
