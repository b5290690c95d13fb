import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { completeLogin } from '../auth/completeLogin';
import { authContext } from '../composition';
import { functionsLogger, redirectResponse, requestCookies, requestUrl, respond } from './http';

/** GET /api/auth/callback: Entra's redirect target (response_mode=query). */
export async function callback(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return respond(request, context, async () => {
    const ctx = authContext(functionsLogger(context));
    const result = await completeLogin(ctx, {
      url: requestUrl(request),
      cookies: requestCookies(request),
    });
    // The callback URL holds the code: never leak it to the next site through Referer.
    return redirectResponse(result, { 'Referrer-Policy': 'no-referrer' });
  });
}
