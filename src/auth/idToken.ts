import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { SigningKeys } from '../ports/SigningKeys';
import type { UserClaims } from '../ports/AuthStore';
import { AuthError, isAuthError } from './errors';
import { constantTimeEqual } from './secrets';

/**
 * ID token validation, done here because msal-node only decodes the token.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 * @see https://learn.microsoft.com/entra/identity-platform/id-tokens#validate-tokens
 */

export const CLOCK_SKEW_SECONDS = 120;
/** Asymmetric algorithms only: "none" and HMAC (a shared secret the client also knows) never. */
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
/** Entra signs ID tokens with RS256; other algorithms only when the provider announces them. */
const DEFAULT_ALGORITHMS = ['RS256'];

export interface IdTokenExpectations {
  clientId: string;
  /** The discovered issuer; may hold `{tenantid}` for multi-tenant authorities. */
  issuer: string;
  /** Empty: only the tenant a fixed (single-tenant) issuer names. */
  allowedTenants: readonly string[];
  nonce: string;
  now: Date;
  keys: SigningKeys;
  /** The provider's id_token_signing_alg_values_supported, if announced. */
  algorithms?: readonly string[];
}

export async function validateIdToken(
  idToken: string,
  expect: IdTokenExpectations,
): Promise<UserClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, expect.keys, {
      audience: expect.clientId,
      algorithms: signingAlgorithms(expect.algorithms),
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: expect.now,
      requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
    }));
  } catch (error) {
    // The key set's own verdict (e.g. the provider's keys could not be fetched: an upstream
    // failure, token_exchange_failed, not a bad token).
    if (isAuthError(error)) throw error;
    if (!(error instanceof joseErrors.JOSEError)) {
      throw new AuthError(
        'token_exchange_failed',
        `could not fetch the signing keys: ${describeJoseError(error)}`,
        { cause: error },
      );
    }
    throw new AuthError('invalid_id_token', `ID token rejected: ${describeJoseError(error)}`, {
      cause: error,
    });
  }

  // Entra always sends tid. A provider with a fixed issuer that does not is taken at its word:
  // the tenant is the one its issuer names (https://host/<tenant>/v2.0).
  const tid = stringClaim(payload, 'tid') ?? fixedIssuerTenant(expect.issuer);
  if (!tid) throw new AuthError('invalid_id_token', 'ID token has no tid claim');

  // Multi-tenant metadata names the issuer with a {tenantid} placeholder: the token's own tid
  // must produce exactly the token's issuer.
  const expectedIssuer = expect.issuer.replace('{tenantid}', tid);
  if (payload.iss !== expectedIssuer) {
    throw new AuthError(
      'invalid_id_token',
      `ID token issuer "${String(payload.iss)}" is not the expected "${expectedIssuer}"`,
    );
  }

  // Several audiences: the token must have been issued to this client.
  // @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation (items 3 to 5)
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== expect.clientId) {
    throw new AuthError(
      'invalid_id_token',
      'ID token has several audiences and azp is not this client',
    );
  }

  const iat = payload.iat as number;
  if (iat > expect.now.getTime() / 1000 + CLOCK_SKEW_SECONDS) {
    throw new AuthError('invalid_id_token', 'ID token iat is in the future');
  }

  // The nonce binds the token to this flow (replay of a token from another flow fails here).
  const nonce = stringClaim(payload, 'nonce');
  if (!nonce || !constantTimeEqual(nonce, expect.nonce)) {
    throw new AuthError('invalid_id_token', 'ID token nonce does not match the flow');
  }

  // Without an explicit list, the one tenant allowed is the one a single-tenant issuer names.
  const allowed = (
    expect.allowedTenants.length > 0 ? expect.allowedTenants : [fixedIssuerTenant(expect.issuer)]
  ).map((t) => t?.toLowerCase());
  if (!allowed.includes(tid.toLowerCase())) {
    throw new AuthError(
      'tenant_not_allowed',
      expect.allowedTenants.length > 0
        ? `tenant ${tid} is not in AUTH_ALLOWED_TENANTS`
        : `tenant ${tid} is not the authority's tenant (AUTH_ALLOWED_TENANTS lists others)`,
    );
  }

  return {
    oid: stringClaim(payload, 'oid') ?? (payload.sub as string),
    tid,
    sub: payload.sub,
    name: stringClaim(payload, 'name'),
    preferred_username: stringClaim(payload, 'preferred_username'),
    email: stringClaim(payload, 'email'),
    login_hint: stringClaim(payload, 'login_hint'),
    roles: stringArrayClaim(payload, 'roles'),
    groups: stringArrayClaim(payload, 'groups'),
    ...(hasGroupsOverage(payload) ? { groupsOverage: true } : {}),
  };
}

/**
 * Entra's group overage marker (ID and access tokens alike): past 200 groups a v2.0 JWT carries no groups claim but
 * `_claim_names: { groups: "src1" }` (with `_claim_sources.src1.endpoint`, a Graph URL not to be
 * followed blindly), or, in the implicit flow, `hasgroups: true`.
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference#groups-overage-claim
 */
export function hasGroupsOverage(payload: JWTPayload): boolean {
  const names = payload._claim_names;
  const viaClaimSources = typeof names === 'object' && names !== null && 'groups' in names;
  return viaClaimSources || payload.hasgroups === true;
}

function signingAlgorithms(announced: readonly string[] | undefined): string[] {
  const usable = (announced ?? []).filter((a) => ASYMMETRIC_ALGORITHMS.includes(a));
  return usable.length > 0 ? usable : DEFAULT_ALGORITHMS;
}

export function fixedIssuerTenant(issuer: string): string | undefined {
  if (issuer.includes('{tenantid}')) return undefined;
  try {
    const segments = new URL(issuer).pathname.split('/').filter(Boolean);
    return segments.at(-1) === 'v2.0' ? segments.at(-2) : segments.at(-1);
  } catch {
    return undefined;
  }
}

export function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function stringArrayClaim(payload: JWTPayload, name: string): string[] {
  const value = payload[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `claim ${error.claim} failed (${error.reason}): ${error.message}`;
  }
  if (error instanceof joseErrors.JOSEError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
