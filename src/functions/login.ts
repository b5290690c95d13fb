import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { startLogin } from '../auth/startLogin';
import { authContext } from '../composition';
import { functionsLogger, redirectResponse, requestCookies, requestUrl, respond } from './http';

/** GET /api/auth/login: starts a sign-in and sends the browser to the authorize endpoint. */
export async function login(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const returnTo = request.query.get('returnTo') ?? undefined;
  return respond(
    request,
    context,
    async () => {
      const ctx = authContext(functionsLogger(context));
      return redirectResponse(
        await startLogin(ctx, {
          url: requestUrl(request),
          cookies: requestCookies(request),
          forwardedProto: request.headers.get('x-forwarded-proto') ?? undefined,
        }),
      );
    },
    returnTo && returnTo.length < 2048 ? returnTo : undefined,
  );
}
