import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { AccessToken } from '../auth/accessTokens';
import { checkRequirements, grantsOfSession, type Requirements } from '../auth/authorization';
import type { CurrentUser } from '../auth/results';
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
  requestUrl,
} from './http';
import { getAccessToken, tokenFailureResponse } from './tokens';

/**
 * For the app's other functions: the signed-in user of this request, exactly as
 * /api/auth/me sees it, or undefined.
 */
export async function getUser(
  request: HttpRequest,
  context: InvocationContext,
): Promise<CurrentUser | undefined> {
  return getCurrentUser(authContext(functionsLogger(context)), requestCookies(request));
}

/** The signed-in user, and the access token when requireUser was asked for one. */
export interface SignedInUser extends CurrentUser {
  accessToken?: AccessToken;
}

export type AuthenticatedHandler = (
  request: HttpRequest,
  context: InvocationContext,
  user: SignedInUser,
) => Promise<HttpResponseInit>;

export interface RequireUserOptions extends Requirements {
  /** A ready access token for an API, e.g. `{ scopes: ['User.Read'] }` for Microsoft Graph. */
  accessToken?: { scopes: readonly string[] };
}

/**
 * Wraps a handler so it only runs for a signed-in user. Anonymous requests get 401 JSON when
 * they prefer JSON (APIs, fetch), otherwise a redirect to sign in and come back here. With
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
    let user: CurrentUser | undefined;
    try {
      user = await getUser(request, context);
      if (!user) return anonymous(request);
      checkRequirements(grantsOfSession(user.user), options);
      const accessToken = options.accessToken
        ? await getAccessToken(request, context, { scopes: options.accessToken.scopes })
        : undefined;
      return await handler(request, context, { ...user, accessToken });
    } catch (error) {
      return user
        ? tokenFailureResponse(error, request, context)
        : failureResponse(error, request, context);
    }
  };
}

function anonymous(request: HttpRequest): HttpResponseInit {
  if (prefersJson(request) || request.method !== 'GET') return notSignedIn();
  const url = requestUrl(request);
  return { status: 302, headers: { Location: loginUrl(url.pathname + url.search), ...NO_STORE } };
}
