import type {
  HttpHandler,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { CurrentUser } from '../auth/results';
import { getCurrentUser } from '../auth/sessions';
import { authContext } from '../composition';
import {
  functionsLogger,
  loginUrl,
  NO_STORE,
  notSignedIn,
  prefersJson,
  requestCookies,
  requestUrl,
  respond,
} from './http';

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

export type AuthenticatedHandler = (
  request: HttpRequest,
  context: InvocationContext,
  user: CurrentUser,
) => Promise<HttpResponseInit>;

/**
 * Wraps a handler so it only runs for a signed-in user. Anonymous requests get 401 JSON when
 * they prefer JSON (APIs, fetch), otherwise a redirect to sign in and come back here.
 */
export function requireUser(handler: AuthenticatedHandler): HttpHandler {
  return (request, context) =>
    respond(request, context, async () => {
      const user = await getUser(request, context);
      if (user) return handler(request, context, user);
      if (prefersJson(request) || request.method !== 'GET') {
        return notSignedIn();
      }
      const url = requestUrl(request);
      return {
        status: 302,
        headers: { Location: loginUrl(url.pathname + url.search), ...NO_STORE },
      };
    });
}
