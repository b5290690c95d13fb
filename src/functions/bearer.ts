import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { validateAccessToken, type BearerCaller } from '../auth/bearerTokens';
import { isAuthError, REASONS } from '../auth/errors';
import { services } from '../composition';
import { NO_STORE } from './http';

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
  if (!isAuthError(error)) {
    context.error(`unexpected error (correlation ${context.invocationId}): ${String(error)}`);
    throw error;
  }
  const correlationId = context.invocationId;
  const line = `auth failure ${error.code} (correlation ${correlationId}): ${error.message}`;
  if (error.status >= 500) context.error(line);
  else context.warn(line);
  const challenge =
    error.status === 401
      ? [`error="invalid_token"`, `error_description="${error.code}"`]
      : error.status === 403
        ? [
            `error="insufficient_scope"`,
            ...(requiredScopes.length ? [`scope="${fullScopes(requiredScopes)}"`] : []),
          ]
        : undefined;
  return {
    status: error.status,
    headers: {
      ...NO_STORE,
      ...(challenge ? { 'WWW-Authenticate': `Bearer ${challenge.join(', ')}` } : {}),
    },
    jsonBody: {
      error: error.code,
      message: REASONS[error.code].title + (error.details ? `: ${error.details}` : ''),
      correlationId,
    },
  };
}

/** What an API caller without any token gets from a function that takes bearer tokens. */
export const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer' } as const;

/** Full scope names (`api://<client id>/<scope>`) as a client must request them. */
function fullScopes(scopes: readonly string[]): string {
  const clientId = services().config.clientId;
  return scopes.map((s) => `api://${clientId}/${s}`).join(' ');
}
