import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { NO_STORE, notSignedIn, respond } from './http';
import { getUser } from './requireUser';

/** GET /api/auth/me: the session's claims, or 401. */
export async function me(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return respond(request, context, async () => {
    const current = await getUser(request, context);
    if (!current) return notSignedIn();
    const { login_hint: _hint, sub: _sub, ...user } = current.user;
    return {
      status: 200,
      headers: { ...NO_STORE },
      jsonBody: { authenticated: true, user, expiresAt: current.expiresAt.toISOString() },
    };
  });
}
