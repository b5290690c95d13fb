import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { SigningKeys } from '../ports/SigningKeys';
import type { UserClaims } from '../ports/AuthStore';
import { AuthError, isAuthError } from './errors';
import {
  CLOCK_SKEW_SECONDS,
  fixedIssuerTenant,
  hasGroupsOverage,
  stringArrayClaim,
  stringClaim,
} from './idToken';

/**
 * Access tokens that API callers send as `Authorization: Bearer <token>`, validated here as
 * Entra's docs ask of a web API: signature against the provider's keys, `iss` (v2.0, per
 * tenant), `aud` (the client id, or the app ID URI), `exp`/`nbf`, `tid` allowed, and an access
 * token rather than an ID token.
 * @see https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-tokens
 * @see https://learn.microsoft.com/entra/identity-platform/claims-validation
 */

export interface AccessTokenExpectations {
  clientId: string;
  /** The discovered issuer; may hold `{tenantid}` for multi-tenant authorities. */
  issuer: string;
  /** Empty: only the tenant a fixed (single-tenant) issuer names. */
  allowedTenants: readonly string[];
  now: Date;
  keys: SigningKeys;
}

/** Who called with a valid token: a user through a client app, or an app on its own. */
export interface BearerCaller {
  /** `delegated`: a user's token (`scp`); `app`: a daemon's app-only token (`roles`, no user). */
  kind: 'delegated' | 'app';
  /** For `app`, `oid` is the calling app's service principal and `roles` its app permissions. */
  user: UserClaims;
  scopes: string[];
  /** The client app the token was issued to (`azp`). */
  clientAppId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** `Authorization: Bearer <token>` (RFC 6750 section 2.1), or undefined for any other header. */
export function bearerTokenOf(header: string | null): string | undefined {
  const match = header ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header) : null;
  return match?.[1];
}

export async function validateAccessToken(
  token: string,
  expect: AccessTokenExpectations,
): Promise<BearerCaller> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, expect.keys, {
      // v2.0 tokens name the client id; a token asked for `api://<client id>/...` may carry the URI.
      audience: [expect.clientId, `api://${expect.clientId}`],
      algorithms: ['RS256'],
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: expect.now,
      requiredClaims: ['iss', 'aud', 'exp', 'tid', 'oid', 'sub'],
    }));
  } catch (error) {
    // Keys that cannot be fetched are an upstream failure (token_exchange_failed), kept as is.
    if (isAuthError(error)) throw error;
    if (!(error instanceof joseErrors.JOSEError)) {
      throw new AuthError('token_exchange_failed', 'could not fetch the signing keys', {
        cause: error,
      });
    }
    throw invalid(describeJoseError(error), error);
  }

  const tid = payload.tid as string;
  const expectedIssuer = expect.issuer.replace('{tenantid}', tid);
  if (payload.iss !== expectedIssuer) {
    throw invalid(`issuer "${String(payload.iss)}" is not "${expectedIssuer}"`);
  }
  if (payload.ver !== '2.0') throw invalid('not a v2.0 access token (ver)');
  // A v2.0 access token names the client it was issued to in azp; an ID token (whose aud is
  // also this client id) has no azp, and no scp for this API.
  const clientAppId = stringClaim(payload, 'azp');
  if (!clientAppId) throw invalid('no azp: an ID token is not an access token');

  const allowed =
    expect.allowedTenants.length > 0 ? expect.allowedTenants : fixedTenants(expect.issuer);
  if (!allowed.some((t) => t.toLowerCase() === tid.toLowerCase())) {
    throw new AuthError('tenant_not_allowed', `bearer token of tenant ${tid} is not allowed`, {
      status: 401,
    });
  }

  const scopes = (stringClaim(payload, 'scp') ?? '').split(' ').filter(Boolean);
  const roles = stringArrayClaim(payload, 'roles');
  // App-only: no scp; Entra marks it with the idtyp optional claim, and its sub is its oid.
  const appOnly = scopes.length === 0 && (payload.idtyp === 'app' || payload.sub === payload.oid);
  if (scopes.length === 0 && !appOnly) throw invalid('neither scp nor an app-only token');
  if (appOnly && roles.length === 0) throw invalid('an app-only token without roles');

  return {
    kind: appOnly ? 'app' : 'delegated',
    clientAppId,
    scopes,
    issuedAt: new Date(((payload.iat ?? payload.nbf ?? 0) as number) * 1000),
    expiresAt: new Date((payload.exp as number) * 1000),
    user: {
      oid: payload.oid as string,
      tid,
      sub: payload.sub,
      name: stringClaim(payload, 'name'),
      preferred_username: stringClaim(payload, 'preferred_username'),
      roles,
      groups: stringArrayClaim(payload, 'groups'),
      ...(hasGroupsOverage(payload) ? { groupsOverage: true as const } : {}),
    },
  };
}

function invalid(why: string, cause?: unknown): AuthError {
  return new AuthError('invalid_access_token', `bearer token rejected: ${why}`, {
    cause,
    details: why,
  });
}

/** The one tenant a single-tenant issuer names; none for the `{tenantid}` template. */
function fixedTenants(issuer: string): string[] {
  const tenant = fixedIssuerTenant(issuer);
  return tenant ? [tenant] : [];
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return `claim ${error.claim} failed (${error.reason})`;
  }
  if (error instanceof joseErrors.JOSEError) return error.code;
  return String(error);
}
