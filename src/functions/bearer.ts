import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { validateAccessToken, type BearerCaller } from '../auth/bearerTokens';
import { services } from '../composition';
import { failureJson, loggedFailure } from './http';

/** API callers with `Authorization: Bearer <access token>`: validation and RFC 6750 answers. */

export async function bearerCaller(token: string): Promise<BearerCaller> {
  const { config, identityProvider, signingKeys, clock } = services();
  const { issuer } = await identityProvider.metadata();
  return validateAccessToken(token, {
    clientId: config.clientId,
    issuer,
    allowedTenants: config.allowedTenants,
    now: clock.now(),
    keys: signingKeys,
  });
}

/**
 * The failure as JSON with RFC 6750's `WWW-Authenticate`: `invalid_token` on 401 (bad, expired
 * or foreign token, tenant not allowed), `insufficient_scope` on 403 (`forbidden`).
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function bearerFailureResponse(
  error: unknown,
  context: InvocationContext,
  requiredScopes: readonly string[],
): HttpResponseInit {
  const { authError, correlationId } = loggedFailure(error, context);
  const challenge =
    authError.status === 401
      ? [`error="invalid_token"`, `error_description="${authError.code}"`]
      : authError.status === 403
        ? [
            `error="insufficient_scope"`,
            ...(requiredScopes.length ? [`scope="${fullScopes(requiredScopes)}"`] : []),
          ]
        : undefined;
  return failureJson(
    authError,
    correlationId,
    challenge ? { 'WWW-Authenticate': `Bearer ${challenge.join(', ')}` } : {},
  );
}

/** What an API caller without any token gets from a function that takes bearer tokens. */
export const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer' } as const;

/** Full scope names (`api://<client id>/<scope>`) as a client must request them. */
function fullScopes(scopes: readonly string[]): string {
  const clientId = services().config.clientId;
  return scopes.map((s) => `api://${clientId}/${s}`).join(' ');
}
