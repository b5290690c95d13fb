import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { endSession } from '../auth/endSession';
import { authContext } from '../composition';
import {
  functionsLogger,
  HTML_PAGE,
  redirectResponse,
  requestCookies,
  requestOrigin,
  respond,
} from './http';
import { logoutPage } from './pages';

/**
 * GET /api/auth/logout: a page with a sign-out button; nothing changes on GET.
 * POST /api/auth/logout: same-origin only; ends the session here and at Entra.
 */
export async function logout(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  if (request.method === 'GET') {
    return {
      status: 200,
      headers: { ...HTML_PAGE },
      body: logoutPage(),
    };
  }
  return respond(request, context, async () => {
    const ctx = authContext(functionsLogger(context));
    const result = await endSession(ctx, {
      ...requestOrigin(request),
      cookies: requestCookies(request),
    });
    return redirectResponse(result);
  });
}
