import type { AuthContext } from './AuthContext';
import { clearCookie, readSessionCookie, SESSION_COOKIE_NAME } from './cookies';
import { AuthError } from './errors';
import type { RedirectResult } from './results';
import { describeOrigin, isSameOrigin, type RequestOrigin } from './sameOrigin';
import { sessionKeyOf } from './sessions';

export interface LogoutRequest extends RequestOrigin {
  cookies: Readonly<Record<string, string>>;
}

/**
 * Signs out: only from this app's own pages (a cross-site POST could otherwise sign users
 * out at will), deletes the session row, clears the cookie, then ends the Entra session.
 * @see https://openid.net/specs/openid-connect-rpinitiated-1_0.html
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#send-a-sign-out-request
 */
export async function endSession(
  ctx: AuthContext,
  request: LogoutRequest,
): Promise<RedirectResult> {
  if (!isSameOrigin(request, ctx.config.redirectUri.origin)) {
    throw new AuthError(
      'invalid_request',
      `logout refused: not a same-origin request (${describeOrigin(request)})`,
      { status: 403 },
    );
  }
  const postLogout = ctx.config.postLogoutRedirectUri.href;
  const cookie = readSessionCookie(request.cookies);
  const cookies =
    cookie || request.cookies[SESSION_COOKIE_NAME] !== undefined
      ? [clearCookie(SESSION_COOKIE_NAME)]
      : [];
  if (!cookie) return { kind: 'redirect', location: postLogout, cookies };

  const key = sessionKeyOf(cookie.partition, cookie.secret);
  const session = await ctx.store.readSession(key);
  if (!session) return { kind: 'redirect', location: postLogout, cookies };
  // The tokens first: a failure here leaves the session, so signing out again finishes the job.
  await ctx.tokenCache.deleteTokenCache(key);
  // Only a session with group overage may have its groups resolved and kept beside it.
  if (session.user.groupsOverage) await ctx.sessionGroups.deleteSessionGroups(key);
  await ctx.store.deleteSession(key);
  ctx.log.info(`logout: session ended for oid=${session.user.oid}`);

  const endSessionEndpoint = (await ctx.identityProvider.metadata()).endSessionEndpoint;
  if (!endSessionEndpoint) return { kind: 'redirect', location: postLogout, cookies };
  const location = new URL(endSessionEndpoint);
  location.searchParams.set('post_logout_redirect_uri', postLogout);
  location.searchParams.set('client_id', ctx.config.clientId);
  // Entra skips its account picker when given the login_hint claim back as logout_hint.
  if (session.user.login_hint) location.searchParams.set('logout_hint', session.user.login_hint);
  return { kind: 'redirect', location: location.href, cookies };
}
