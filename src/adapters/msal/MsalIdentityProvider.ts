import {
  AuthError as MsalAuthError,
  ConfidentialClientApplication,
  LogLevel,
  type Configuration,
  type NodeAuthOptions,
} from '@azure/msal-node';
import { AuthError } from '../../auth/errors';
import { forLog } from '../../auth/redact';
import type {
  AuthorizationRequest,
  CodeRedemption,
  IdentityProvider,
  IssuedAccessToken,
  IssuedTokens,
  ProviderMetadata,
  TokenRefresh,
} from '../../ports/IdentityProvider';
import type { Logger } from '../../ports/Logger';
import {
  boundedClientAssertion,
  BoundedNetworkClient,
  throttleSecondsOf,
  UpstreamFailure,
} from './BoundedNetworkClient';
import { describeUpstreamError } from './describeUpstreamError';
import { RetryAfterHolds } from './RetryAfterHolds';
import { issuedTokensOf, refreshWithMsal } from './msalTokens';

export type MsalCredential = Pick<
  NodeAuthOptions,
  'clientSecret' | 'clientCertificate' | 'clientAssertion'
>;

export interface MsalIdentityProviderOptions {
  clientId: string;
  /** https://<host>/<tenant>, Entra-shaped: discovery at <authority>/v2.0/.well-known/openid-configuration. */
  authority: string;
  credential: MsalCredential;
  redirectUri: string;
  scopes: readonly string[];
  /** Declared to Entra in every token request, e.g. `cp1` (Continuous Access Evaluation). */
  clientCapabilities?: readonly string[];
  log: Logger;
  /** Bound of each call to the provider: discovery, token endpoint (AUTH_IDP_TIMEOUT_MS). */
  timeoutMs: number;
}

interface DiscoveryDocument {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  [key: string]: unknown;
}

const DROPPED_CONNECTION = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET']);
/** msal-node error codes that mean the ID token itself failed a check. */
const ID_TOKEN_ERRORS = new Set(['nonce_mismatch', 'token_parsing_error']);

/**
 * The authorization code flow through msal-node: it builds the authorize URL and redeems the
 * code (PKCE verifier, state and nonce checks). The ID token it returns is only decoded by
 * msal-node; the flow validates it itself.
 */
export class MsalIdentityProvider implements IdentityProvider {
  private discovery?: Promise<{
    document: DiscoveryDocument;
    client: ConfidentialClientApplication;
    configuration: Configuration;
  }>;

  private readonly holds = new RetryAfterHolds();

  constructor(private readonly options: MsalIdentityProviderOptions) {}

  async metadata(): Promise<ProviderMetadata> {
    const { document } = await this.ready();
    return {
      issuer: document.issuer,
      jwksUri: document.jwks_uri,
      endSessionEndpoint: document.end_session_endpoint,
      idTokenSigningAlgorithms: Array.isArray(document.id_token_signing_alg_values_supported)
        ? document.id_token_signing_alg_values_supported.filter(
            (a): a is string => typeof a === 'string',
          )
        : undefined,
    };
  }

  async buildAuthorizationUrl(request: AuthorizationRequest): Promise<string> {
    const { client } = await this.ready();
    return client.getAuthCodeUrl({
      redirectUri: this.options.redirectUri,
      responseMode: 'query',
      state: request.state,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: 'S256',
      prompt: request.prompt,
      loginHint: request.loginHint,
      domainHint: request.domainHint,
      ...this.tokenParameters(request),
    });
  }

  /** Incremental consent and claims challenges: API scopes and claims for this sign-in. */
  private tokenParameters(request: AuthorizationRequest): { scopes: string[]; claims?: string } {
    const scopes = [...this.options.scopes, ...(request.extraScopes ?? [])];
    return { scopes: [...new Set(scopes)], claims: request.claims };
  }

  async refreshAccessToken(
    refresh: TokenRefresh,
  ): Promise<IssuedTokens & { accessToken: IssuedAccessToken }> {
    // A throttled refresh is paused in the session's token cache (getAccessToken), on every
    // instance: nothing to hold here.
    return refreshWithMsal((await this.ready()).configuration, refresh);
  }

  async redeemCode(
    redemption: CodeRedemption,
  ): Promise<{ idToken: string; tokens?: IssuedTokens }> {
    // This sign-in was told to wait: honour it without asking again (other sign-ins go ahead).
    const waitSeconds = this.holds.remainingSeconds(redemption.state);
    if (waitSeconds !== undefined) {
      throw new AuthError(
        'idp_throttled',
        `the token endpoint asked this sign-in to wait (Retry-After); not asking again for ${waitSeconds} s`,
        { retryAfterSeconds: waitSeconds, details: waitMessage(waitSeconds) },
      );
    }
    // A client of its own per redemption (the network client, and so the bounds, are shared):
    // the refresh token is read back from this one sign-in's cache alone.
    const client = new ConfidentialClientApplication((await this.ready()).configuration);
    try {
      const result = await client.acquireTokenByCode(
        {
          code: redemption.code,
          scopes: [...this.options.scopes],
          redirectUri: this.options.redirectUri,
          codeVerifier: redemption.codeVerifier,
          nonce: redemption.nonce,
          state: redemption.state,
        },
        { code: redemption.code, state: redemption.state },
      );
      if (!result.idToken) throw new Error('the token response has no id_token');
      return { idToken: result.idToken, tokens: await issuedTokensOf(client, result) };
    } catch (error) {
      if (error instanceof UpstreamFailure) throw this.upstreamError(error, redemption.state);
      // msal-node checks the token's nonce and shape itself: those are token failures, not
      // failures of the exchange.
      const tokenProblem = error instanceof MsalAuthError && ID_TOKEN_ERRORS.has(error.errorCode);
      // Anything else came back from the provider as an OAuth error for this code (failures of
      // the provider itself are UpstreamFailures): the same code will not do on a retry.
      throw new AuthError(
        tokenProblem ? 'invalid_id_token' : 'token_exchange_failed',
        `code redemption failed: ${describeUpstreamError(error)}`,
        { cause: error, final: true },
      );
    }
  }

  /**
   * The provider failed the exchange. Throttled: idp_throttled with the wait passed on and held
   * for this sign-in only; anything else token_exchange_failed.
   */
  private upstreamError(failure: UpstreamFailure, state: string): AuthError {
    const seconds = throttleSecondsOf(failure);
    if (seconds === undefined) {
      return new AuthError('token_exchange_failed', `code redemption failed: ${failure.message}`, {
        cause: failure,
      });
    }
    this.holds.hold(state, seconds);
    return new AuthError(
      'idp_throttled',
      `code redemption throttled: ${failure.message}; this sign-in waits ${seconds} s, others go ahead`,
      { cause: failure, retryAfterSeconds: seconds, details: waitMessage(seconds) },
    );
  }

  /** Discovery once per process (again after a failure), then a client that needs no other. */
  private ready(): Promise<{
    document: DiscoveryDocument;
    client: ConfidentialClientApplication;
    configuration: Configuration;
  }> {
    this.discovery ??= this.discover().catch((error: unknown) => {
      this.discovery = undefined;
      throw error;
    });
    return this.discovery;
  }

  private async discover(): Promise<{
    document: DiscoveryDocument;
    client: ConfidentialClientApplication;
    configuration: Configuration;
  }> {
    const { authority, clientId, credential, log, timeoutMs } = this.options;
    const url = `${authority}/v2.0/.well-known/openid-configuration`;
    let document: DiscoveryDocument;
    let response: Response | undefined;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as DiscoveryDocument;
      for (const field of [
        'issuer',
        'authorization_endpoint',
        'token_endpoint',
        'jwks_uri',
      ] as const) {
        if (typeof document[field] !== 'string') throw new Error(`the document has no ${field}`);
      }
    } catch (error) {
      // No answer in time, a dropped connection or a 5xx: the provider is down, the settings
      // may well be right (a host that does not resolve, a 404, a bad document: they are not).
      const name = (error as { name?: unknown }).name;
      const networkCode = (error as { cause?: { code?: unknown } }).cause?.code;
      if (
        name === 'TimeoutError' ||
        (typeof networkCode === 'string' && DROPPED_CONNECTION.has(networkCode)) ||
        (response && response.status >= 500)
      ) {
        throw new AuthError(
          'token_exchange_failed',
          `the authority's discovery document ${url} ${name === 'TimeoutError' ? `did not arrive within ${timeoutMs} ms (AUTH_IDP_TIMEOUT_MS)` : response ? `answered ${response.status}` : `could not be fetched (${String(networkCode)})`}`,
          { cause: error },
        );
      }
      throw new AuthError(
        'misconfigured',
        `could not read the authority's discovery document ${url} (check AUTH_AUTHORITY / AUTH_TENANT_ID, and NODE_EXTRA_CA_CERTS for a private CA): ${describeUpstreamError(error)}`,
        { cause: error },
      );
    }
    const configuration: Configuration = {
      auth: {
        clientId,
        authority,
        // The authority's own host is trusted as is: no instance discovery call to
        // login.microsoftonline.com, so sovereign clouds and the local emulator work alike.
        knownAuthorities: [new URL(authority).host],
        authorityMetadata: JSON.stringify(document),
        ...credential,
        ...(typeof credential.clientAssertion === 'function'
          ? { clientAssertion: boundedClientAssertion(credential.clientAssertion, timeoutMs) }
          : {}),
        clientCapabilities: [...(this.options.clientCapabilities ?? [])],
      },
      system: {
        // Bounded calls, and no throttle shared by every user's sign-in (see the client).
        networkClient: new BoundedNetworkClient(timeoutMs),
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message) => {
            if (level <= LogLevel.Warning) log.warn(`msal: ${forLog(message, 500)}`);
          },
        },
      },
    };
    return {
      document,
      client: new ConfidentialClientApplication(configuration),
      configuration,
    };
  }
}

function waitMessage(seconds: number): string {
  return `Wait ${seconds} seconds before signing in again.`;
}
