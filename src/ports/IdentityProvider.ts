/** The OpenID provider (Entra ID or the local emulator) as the sign-in flow sees it. */

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  /** PKCE S256 code_challenge (RFC 7636 section 4.2). */
  codeChallenge: string;
  prompt?: string;
  loginHint?: string;
  domainHint?: string;
  /** Scopes for APIs asked beyond the configured ones (incremental consent). */
  extraScopes?: readonly string[];
  /** A claims request (JSON), e.g. from an API's claims challenge. */
  claims?: string;
}

export interface CodeRedemption {
  code: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface ProviderMetadata {
  issuer: string;
  jwksUri: string;
  endSessionEndpoint?: string;
  /** id_token_signing_alg_values_supported, when the provider lists them. */
  idTokenSigningAlgorithms?: string[];
}

/** An access token for one API, as the token endpoint issued it. */
export interface IssuedAccessToken {
  token: string;
  /** The scopes it carries, as the provider named them (`User.Read`, `api://<id>/x`). */
  scopes: string[];
  expiresAt: Date;
}

/** What a token response leaves for later: only what a refresh and a cache hit need. */
export interface IssuedTokens {
  /** Absent when the provider issued none (then a later refresh is impossible). */
  refreshToken?: string;
  accessToken?: IssuedAccessToken;
}

export interface TokenRefresh {
  refreshToken: string;
  scopes: readonly string[];
  /** A claims request (JSON) from an API's claims challenge. */
  claims?: string;
}

export interface IdentityProvider {
  metadata(): Promise<ProviderMetadata>;
  buildAuthorizationUrl(request: AuthorizationRequest): Promise<string>;
  /**
   * Redeems the code; returns the raw ID token for the flow to validate itself, and the tokens
   * for calling APIs as the user. A provider that answered with a refusal (an OAuth error such
   * as invalid_grant: the code expired, was used, or its PKCE verifier does not match) throws
   * `token_exchange_failed` marked `final`; a provider that failed (timeout, 5xx) does not mark it.
   */
  redeemCode(redemption: CodeRedemption): Promise<{ idToken: string; tokens?: IssuedTokens }>;
  /**
   * Redeems a refresh token for an access token with these scopes. Throws AuthError
   * `consent_required` (scopes not granted) or `reauthentication_required` (refresh token
   * revoked or expired, MFA or another interaction needed), `idp_throttled` (the provider asked
   * to wait: Retry-After), else `token_exchange_failed`.
   */
  refreshAccessToken(
    refresh: TokenRefresh,
  ): Promise<IssuedTokens & { accessToken: IssuedAccessToken }>;
}
