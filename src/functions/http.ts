import type { Cookie, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { parse as parseCookieHeader } from 'cookie';
import type { CookieToSet } from '../auth/cookies';
import { isAuthError, REASONS, type AuthError, type SignInNeeds } from '../auth/errors';
import { checkCookieHeader } from '../auth/requestLimits';
import type { RedirectResult } from '../auth/results';
import type { RequestOrigin } from '../auth/sameOrigin';
import type { Logger } from '../ports/Logger';
import { routePath, routes } from '../routes';
import { errorPage } from './pages';

/** The translation between HTTP (as @azure/functions models it) and the use cases. */

/** Auth responses are personal and single-use: never cached by browsers or proxies. */
export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** Headers of every HTML page: personal, never framed (no clickjacking of the sign-out button). */
export const HTML_PAGE = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  ...NO_STORE,
} as const;

export function requestUrl(request: HttpRequest): URL {
  return new URL(request.url);
}

/** Where the request says it was sent from (for the same-origin checks of auth/sameOrigin). */
export function requestOrigin(request: HttpRequest): RequestOrigin {
  return {
    url: requestUrl(request),
    origin: request.headers.get('origin') ?? undefined,
    secFetchSite: request.headers.get('sec-fetch-site') ?? undefined,
  };
}

/** The request's cookies; an oversized Cookie header is refused as invalid_request. */
export function requestCookies(request: HttpRequest): Record<string, string> {
  const header = request.headers.get('cookie');
  checkCookieHeader(header);
  const parsed = header ? parseCookieHeader(header) : {};
  const cookies: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed))
    if (value !== undefined) cookies[name] = value;
  return cookies;
}

export function toFunctionsCookie(cookie: CookieToSet): Cookie {
  return {
    name: cookie.name,
    value: cookie.value,
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'Lax',
    maxAge: cookie.maxAgeSeconds,
    ...(cookie.maxAgeSeconds === 0 ? { expires: new Date(0) } : {}),
  };
}

export function redirectResponse(
  result: RedirectResult,
  extraHeaders: Record<string, string> = {},
): HttpResponseInit {
  return {
    status: 302,
    headers: { Location: result.location, ...NO_STORE, ...extraHeaders },
    cookies: result.cookies.map(toFunctionsCookie),
  };
}

/** What /api/auth/me and requireUser answer an anonymous API caller. */
export function notSignedIn(): HttpResponseInit {
  return { status: 401, headers: { ...NO_STORE }, jsonBody: { authenticated: false } };
}

/**
 * Whether the caller wants JSON rather than a page: `Accept` names application/json and not
 * text/html (fetch and API clients, not a browser's navigation).
 */
export function prefersJson(request: HttpRequest): boolean {
  const accept = request.headers.get('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

export function functionsLogger(context: InvocationContext): Logger {
  return {
    info: (m) => context.log(m),
    warn: (m) => context.warn(m),
    error: (m) => context.error(m),
  };
}

/**
 * A failed auth request: the reason code, status, correlation id (also logged) and either the
 * JSON body or the page with "Sign in again". Anything that is not an AuthError is a bug: it
 * is logged and rethrown for the host to answer 500.
 */
export function failureResponse(
  error: unknown,
  request: HttpRequest,
  context: InvocationContext,
  returnTo?: string,
): HttpResponseInit {
  const { authError, correlationId } = loggedFailure(error, context);
  const retryUrl = loginUrl(authError.returnTo ?? returnTo, authError.signIn);
  if (prefersJson(request)) return failureJson(authError, correlationId);
  return {
    status: authError.status,
    headers: { ...HTML_PAGE, ...retryAfterOf(authError) },
    body: errorPage(authError, correlationId, retryUrl),
  };
}

/**
 * Logs a failure once, by its code and correlation id. Anything that is not an AuthError is a
 * bug: it is logged with its stack and rethrown for the host to answer 500.
 */
export function loggedFailure(
  error: unknown,
  context: InvocationContext,
): { authError: AuthError; correlationId: string } {
  if (!isAuthError(error)) {
    context.error(`unexpected error (correlation ${context.invocationId}): ${describe(error)}`);
    throw error;
  }
  const correlationId = context.invocationId;
  const line = `auth failure ${error.code} (correlation ${correlationId}): ${error.message}`;
  if (error.status >= 500) context.error(line);
  else context.warn(line);
  return { authError: error, correlationId };
}

/** The failure as `{ error, message, correlationId }` JSON. */
export function failureJson(
  error: AuthError,
  correlationId: string,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status: error.status,
    headers: { ...NO_STORE, ...retryAfterOf(error), ...headers },
    jsonBody: {
      error: error.code,
      message: REASONS[error.code].title + (error.details ? `: ${error.details}` : ''),
      correlationId,
    },
  };
}

/** An upstream that asked for a pause (idp_throttled) passes the pause on to the client. */
function retryAfterOf(error: AuthError): Record<string, string> {
  return error.retryAfterSeconds === undefined
    ? {}
    : { 'Retry-After': String(error.retryAfterSeconds) };
}

/**
 * The login URL for "Sign in again", keeping the same return URL, and asking for what a token
 * needs (API scopes to consent to, an API's claims challenge) when given.
 */
export function loginUrl(returnTo?: string, needs?: SignInNeeds): string {
  const query = new URLSearchParams();
  if (returnTo) query.set('returnTo', returnTo);
  if (needs?.scopes?.length) query.set('scope', needs.scopes.join(' '));
  if (needs?.claims) query.set('claims', needs.claims);
  const search = query.toString().replace(/\+/g, '%20');
  return search ? `${routePath(routes.login)}?${search}` : routePath(routes.login);
}

/** Runs an auth use case for a request and turns its outcome into a response. */
export async function respond(
  request: HttpRequest,
  context: InvocationContext,
  run: () => Promise<HttpResponseInit>,
  returnTo?: string,
): Promise<HttpResponseInit> {
  try {
    return await run();
  } catch (error) {
    return failureResponse(error, request, context, returnTo);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
