import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { AccessToken } from '../auth/accessTokens';
import type { AuthContext } from '../auth/AuthContext';
import {
  acceptsBearer,
  acceptsSessions,
  checkRequirements,
  grantsOfBearer,
  grantsOfSession,
  type Requirements,
} from '../auth/authorization';
import { bearerTokenOf, type BearerCaller } from '../auth/bearerTokens';
import { AuthError } from '../auth/errors';
import type { CurrentUser } from '../auth/results';
import { describeOrigin, isSameOrigin, type RequestOrigin } from '../auth/sameOrigin';
import { getCurrentUser } from '../auth/sessions';
import { authContext } from '../composition';
import {
  failureResponse,
  functionsLogger,
  loginUrl,
  NO_STORE,
  notSignedIn,
  prefersJson,
  requestCookies,
  requestOrigin,
  requestUrl,
} from './http';
import { BEARER_CHALLENGE, bearerCaller, bearerFailureResponse } from './bearer';
import { groupsOfCheckedSession } from './sessionGroups';
import { accessTokenOfCheckedSession, tokenFailureResponse } from './tokens';

/**
 * For the app's other functions: the signed-in user of this request, exactly as
 * /api/auth/me sees it, or undefined.
 */
export async function getUser(
  request: HttpRequest,
  context: InvocationContext,
): Promise<CurrentUser | undefined> {
  const ctx = authContext(functionsLogger(context));
  // A POST (PUT, PATCH, DELETE) from another origin's page gets no user: the session cookie
  // alone does not say the user meant it.
  const from = crossSiteChange(request, ctx);
  if (from) {
    ctx.log.warn(`${request.method} from another origin: no user (${describeOrigin(from)})`);
    return undefined;
  }
  return getCurrentUser(ctx, requestCookies(request));
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A state-changing request not sent from the app's own pages: where it says it came from. */
function crossSiteChange(request: HttpRequest, ctx: AuthContext): RequestOrigin | undefined {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return undefined;
  const from = requestOrigin(request);
  return isSameOrigin(from, ctx.config.redirectUri.origin) ? undefined : from;
}

/** The signed-in user, and the access token when requireUser was asked for one. */
export interface SignedInUser extends CurrentUser {
  accessToken?: AccessToken;
  /**
   * Set when the caller sent a bearer token instead of a session cookie: a user's delegated
   * token, or a daemon's app-only token (then `user.oid` is the calling app's, with no name).
   */
  bearer?: Pick<BearerCaller, 'kind' | 'scopes' | 'clientAppId'>;
}

/** A handler wrapped by requireUser: it runs only for a signed-in user (or an accepted bearer caller). */
export type AuthenticatedHandler = (
  request: HttpRequest,
  context: InvocationContext,
  user: SignedInUser,
) => Promise<HttpResponseInit>;

/** What requireUser checks before the handler runs (see Requirements), and the token it gets. */
export interface RequireUserOptions extends Requirements {
  /** A ready access token for an API, e.g. `{ scopes: ['User.Read'] }` for Microsoft Graph. */
  accessToken?: { scopes: readonly string[] };
}

/**
 * Wraps a handler so it only runs for a signed-in user. Anonymous requests get 401 JSON when
 * they prefer JSON (APIs, fetch), otherwise a redirect to sign in and come back here (not for
 * an API that names only `scopes` / `appRoles`, which no session meets: 401 there too). With
 * `roles`, `groups` or `scopes` (see Requirements), a user who lacks them gets `forbidden`
 * (403, a page naming what is missing, or JSON), never a redirect to sign in. With
 * `accessToken`, the handler also gets a token for those scopes; when the user must consent or
 * sign in again first (here or in getAccessToken inside the handler), a browser is sent to sign
 * in and back, an API caller gets 401 JSON with the reason code.
 */
export function requireUser(handler: AuthenticatedHandler): HttpHandler;
export function requireUser(
  options: RequireUserOptions,
  handler: AuthenticatedHandler,
): HttpHandler;
export function requireUser(
  first: RequireUserOptions | AuthenticatedHandler,
  second?: AuthenticatedHandler,
): HttpHandler {
  const options = typeof first === 'function' ? {} : first;
  const handler = typeof first === 'function' ? first : (second as AuthenticatedHandler);
  return async (request, context) => {
    const authorization = request.headers.get('authorization');
    if (authorization && /^bearer\b/i.test(authorization)) {
      return asBearerCaller(authorization, request, context, options, handler);
    }
    let user: CurrentUser | undefined;
    try {
      const ctx = authContext(functionsLogger(context));
      const from = crossSiteChange(request, ctx);
      if (from) {
        throw new AuthError(
          'invalid_request',
          `cross-site ${request.method} refused (${describeOrigin(from)})`,
          {
            status: 403,
            details: `This ${request.method} did not come from this app's own pages (its Origin is another site's, or it has none), so the session cookie does not count for it. API clients send Authorization: Bearer instead.`,
          },
        );
      }
      // The cross-site check is done: the session itself, as getUser reads it.
      user = await getCurrentUser(ctx, requestCookies(request));
      if (!user) return anonymous(request, options);
      const grants = grantsOfSession(user.user);
      // Group overage: only a function that names groups asks Graph for them.
      if (options.groups?.length && grants.groupsUnknown) {
        grants.groups = await groupsOfCheckedSession(request, context, user.user);
        grants.groupsUnknown = false;
      }
      checkRequirements(grants, options);
      const accessToken = options.accessToken
        ? await accessTokenOfCheckedSession(request, context, {
            scopes: options.accessToken.scopes,
          })
        : undefined;
      return await handler(request, context, { ...user, accessToken });
    } catch (error) {
      return user
        ? tokenFailureResponse(error, request, context)
        : failureResponse(error, request, context);
    }
  };
}

/**
 * A request with `Authorization: Bearer`: no session or cookie involved. Only functions that
 * name the scopes or app roles a token must carry take one; errors are JSON with RFC 6750's
 * WWW-Authenticate, never a redirect.
 */
async function asBearerCaller(
  authorization: string,
  request: HttpRequest,
  context: InvocationContext,
  options: RequireUserOptions,
  handler: AuthenticatedHandler,
): Promise<HttpResponseInit> {
  try {
    const token = bearerTokenOf(authorization);
    if (!token) throw new AuthError('invalid_access_token', 'malformed Authorization header');
    const caller = await bearerCaller(token);
    if (options.accessToken) {
      // Calling another API as this caller needs on-behalf-of, which this library does not do.
      throw new AuthError('forbidden', 'bearer caller of a function that calls APIs', {
        details:
          'This function calls other APIs as a signed-in browser user and does not accept bearer tokens.',
      });
    }
    checkRequirements(grantsOfBearer(caller), options);
    const { kind, scopes, clientAppId } = caller;
    return await handler(request, context, {
      user: caller.user,
      signedInAt: caller.issuedAt,
      expiresAt: caller.expiresAt,
      bearer: { kind, scopes, clientAppId },
    });
  } catch (error) {
    return bearerFailureResponse(error, context, options.scopes ?? []);
  }
}

function anonymous(request: HttpRequest, options: Requirements): HttpResponseInit {
  // An API for bearer callers only: signing in would end in forbidden, so 401 even for a browser.
  if (prefersJson(request) || request.method !== 'GET' || !acceptsSessions(options)) {
    const response = notSignedIn();
    return acceptsBearer(options)
      ? { ...response, headers: { ...response.headers, ...BEARER_CHALLENGE } }
      : response;
  }
  const url = requestUrl(request);
  return { status: 302, headers: { Location: loginUrl(url.pathname + url.search), ...NO_STORE } };
}
