import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  getAccessToken as acquireAccessToken,
  type AccessToken,
  type AccessTokenRequest,
} from '../auth/accessTokens';
import { readSessionCookie } from '../auth/cookies';
import { AuthError, isAuthError } from '../auth/errors';
import { findCurrentSession } from '../auth/sessions';
import { authContext } from '../composition';
import {
  failureResponse,
  functionsLogger,
  loginUrl,
  NO_STORE,
  prefersJson,
  requestCookies,
  requestUrl,
} from './http';

export type { AccessToken, AccessTokenRequest } from '../auth/accessTokens';
export { claimsChallengeOf } from '../auth/claimsChallenge';

/**
 * For the app's functions: an access token for an API, as the user of this request, e.g.
 * `getAccessToken(request, context, { scopes: ['User.Read'] })`. Use it in an Authorization
 * header of a server-side call; never send it to the browser or log it.
 *
 * Throws AuthError `consent_required` or `reauthentication_required` (inside requireUser these
 * become a sign-in for a browser and 401 JSON for an API caller), `token_exchange_failed` or
 * `storage_unavailable`. An API's claims challenge: pass `claims` (see claimsChallengeOf).
 */
export async function getAccessToken(
  request: HttpRequest,
  context: InvocationContext,
  options: AccessTokenRequest,
): Promise<AccessToken> {
  const ctx = authContext(functionsLogger(context));
  const cookies = requestCookies(request);
  const cookie = readSessionCookie(cookies);
  const session = cookie && (await findCurrentSession(ctx, cookies));
  if (!cookie || !session) {
    throw new AuthError('reauthentication_required', 'no signed-in session for an access token', {
      signIn: { scopes: options.scopes, claims: options.claims },
    });
  }
  return acquireAccessToken(ctx, { key: session.key, secret: cookie.secret }, options);
}

/** A sign-in just made that fails again the same way would loop: show the page instead. */
const SIGN_IN_LOOP_GUARD_SECONDS = 30;

/**
 * A token failure as the caller should see it: a browser's GET goes to sign in (asking for the
 * scopes or claims needed) and comes back; an API caller, or a browser that just signed in, gets
 * the reason code (401 JSON, or the page with "Sign in again").
 */
export function tokenFailureResponse(
  error: unknown,
  request: HttpRequest,
  context: InvocationContext,
  signedInAt?: Date,
): HttpResponseInit {
  const needsSignIn =
    isAuthError(error) &&
    (error.code === 'consent_required' || error.code === 'reauthentication_required');
  const url = requestUrl(request);
  const here = url.pathname + url.search;
  const justSignedIn =
    signedInAt !== undefined &&
    Date.now() - signedInAt.getTime() < SIGN_IN_LOOP_GUARD_SECONDS * 1000;
  if (needsSignIn && request.method === 'GET' && !prefersJson(request) && !justSignedIn) {
    context.log(`tokens: ${error.code}: sending the browser to sign in (${error.message})`);
    return { status: 302, headers: { Location: loginUrl(here, error.signIn), ...NO_STORE } };
  }
  return failureResponse(error, request, context, here);
}
