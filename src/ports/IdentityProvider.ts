/** The OpenID provider (Entra ID or the local emulator) as the sign-in flow sees it. */

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  /** PKCE S256 code_challenge (RFC 7636 section 4.2). */
  codeChallenge: string;
  prompt?: string;
  loginHint?: string;
  domainHint?: string;
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

export interface IdentityProvider {
  metadata(): Promise<ProviderMetadata>;
  buildAuthorizationUrl(request: AuthorizationRequest): Promise<string>;
  /** Redeems the code; returns the raw ID token for the flow to validate itself. */
  redeemCode(redemption: CodeRedemption): Promise<{ idToken: string }>;
}
