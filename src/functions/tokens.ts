import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  getAccessToken as acquireAccessToken,
  type AccessToken,
  type AccessTokenRequest,
} from '../auth/accessTokens';
import { clearCookie, readSessionCookie } from '../auth/cookies';
import { AuthError, isAuthError } from '../auth/errors';
import { sha256 } from '../auth/secrets';
import { findCurrentSession, sessionTokensOf } from '../auth/sessions';
import { authContext } from '../composition';
import {
  failureResponse,
  functionsLogger,
  loginUrl,
  NO_STORE,
  prefersJson,
  requestCookies,
  requestUrl,
  toFunctionsCookie,
} from './http';

export type { AccessToken, AccessTokenRequest } from '../auth/accessTokens';
export { claimsChallengeOf } from '../auth/claimsChallenge';

/**
 * For the app's functions: an access token for an API, as the user of this request, e.g.
 * `getAccessToken(request, context, { scopes: ['User.Read'] })`. Use it in an Authorization
 * header of a server-side call; never send it to the browser or log it.
 *
 * Throws AuthError `consent_required` or `reauthentication_required` (inside requireUser these
 * become a sign-in for a browser and 401 JSON for an API caller), `idp_throttled` (503 with
 * Retry-After), `token_exchange_failed` or `storage_unavailable`. While the provider cannot
 * refresh a token (down, throttling), a cached token that has not expired yet still serves.
 * An API's claims challenge: pass `claims` (see claimsChallengeOf).
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

/**
 * getAccessToken for requireUser, which has just found this request's session live: the token
 * cache is read by the cookie's key without reading the session row a second time.
 */
export async function accessTokenOfCheckedSession(
  request: HttpRequest,
  context: InvocationContext,
  options: AccessTokenRequest,
): Promise<AccessToken> {
  const session = sessionTokensOf(requestCookies(request));
  if (!session) throw new Error('accessTokenOfCheckedSession without a session cookie');
  return acquireAccessToken(authContext(functionsLogger(context)), session, options);
}

/**
 * Against redirect loops: the sign-in sent for a need is remembered for a minute in a small
 * cookie (a hash of the need and the URL, nothing secret); the same need at the same URL within
 * that minute shows the page instead of redirecting again.
 */
const RETRY_COOKIE = '__Host-authretry';
const RETRY_COOKIE_SECONDS = 60;

/**
 * A token failure as the caller should see it: a browser's GET goes to sign in (asking for the
 * scopes or claims needed) and comes back; an API caller, or a browser that already went round
 * once for the same need, gets the reason code (401 JSON, or the page with "Sign in again").
 */
export function tokenFailureResponse(
  error: unknown,
  request: HttpRequest,
  context: InvocationContext,
): HttpResponseInit {
  const url = requestUrl(request);
  const here = url.pathname + url.search;
  const needsSignIn =
    isAuthError(error) &&
    (error.code === 'consent_required' || error.code === 'reauthentication_required');
  if (!needsSignIn || request.method !== 'GET' || prefersJson(request)) {
    return failureResponse(error, request, context, here);
  }
  const need = sha256(
    [error.code, here, error.signIn?.scopes?.join(' ') ?? '', error.signIn?.claims ?? ''].join(
      '\n',
    ),
  ).slice(0, 22);
  if (requestCookies(request)[RETRY_COOKIE] === need) {
    context.warn(`tokens: ${error.code} again right after a sign-in for it: not redirecting again`);
    const page = failureResponse(error, request, context, here);
    return { ...page, cookies: [toFunctionsCookie(clearCookie(RETRY_COOKIE))] };
  }
  context.log(`tokens: ${error.code}: sending the browser to sign in (${error.message})`);
  return {
    status: 302,
    headers: { Location: loginUrl(here, error.signIn), ...NO_STORE },
    cookies: [
      toFunctionsCookie({ name: RETRY_COOKIE, value: need, maxAgeSeconds: RETRY_COOKIE_SECONDS }),
    ],
  };
}
