import type { app as functionsApp } from '@azure/functions';
import { initialise, services } from './composition';
import { callback } from './functions/callback';
import { CLEANUP_SCHEDULE, cleanup } from './functions/cleanup';
import { health } from './functions/health';
import { login } from './functions/login';
import { logout } from './functions/logout';
import { me } from './functions/me';
import {
  checkRoutes,
  configureRoutes,
  LOGIN_FUNCTION_NAME,
  routePath,
  routes,
  type SignInRoutes,
} from './routes';

/**
 * entra-functions-signin: Microsoft Entra ID sign-in for an Azure Functions app (Node.js v4
 * programming model), with flow records and sessions in Azure Table Storage. Settings are read
 * from the environment (AUTH_*), see the README.
 */

export interface SignInOptions {
  /**
   * Routes of the sign-in endpoints, relative to host.json's routePrefix. Defaults:
   * `auth/login`, `auth/callback`, `auth/me`, `auth/logout`, `health`. The callback route is
   * part of the redirect URI registered with Entra ID.
   */
  routes?: Partial<SignInRoutes>;
  /** host.json's `extensions.http.routePrefix` (default `api`): for the links and redirects. */
  routePrefix?: string;
}

let registered = false;

/**
 * Registers the sign-in endpoints (login, callback, me, logout, health) and the cleanup timer of
 * expired flow records and sessions on the app's own `app` from `@azure/functions`, and reads
 * and validates the settings once. With bad settings every problem is logged now, and the
 * endpoints answer `misconfigured` (health 503) until they are fixed. Call it once per app: a
 * second call throws (the function names are taken, and the routes already served).
 *
 * @example
 * import { app } from '@azure/functions';
 * import { registerSignIn } from 'entra-functions-signin';
 * registerSignIn(app);
 */
export function registerSignIn(app: typeof functionsApp, options: SignInOptions = {}): void {
  checkRoutes(options.routes);
  if (registered) {
    throw new Error(
      'registerSignIn was called a second time: call it once per app (for example in src/index.ts, which package.json "main" loads); the sign-in endpoints and the cleanup timer are registered already.',
    );
  }
  registered = true;
  configureRoutes(options.routes, options.routePrefix);
  initialise();
  // Browser routes are anonymous: function keys are not a user sign-in.
  const authLevel = 'anonymous';
  app.http(LOGIN_FUNCTION_NAME, {
    route: routes.login,
    methods: ['GET'],
    authLevel,
    handler: login,
  });
  app.http('authCallback', {
    route: routes.callback,
    methods: ['GET'],
    authLevel,
    handler: callback,
  });
  app.http('authMe', { route: routes.me, methods: ['GET'], authLevel, handler: me });
  app.http('authLogout', {
    route: routes.logout,
    methods: ['GET', 'POST'],
    authLevel,
    handler: logout,
  });
  app.http('authHealth', { route: routes.health, methods: ['GET'], authLevel, handler: health });
  app.timer('authCleanup', { schedule: CLEANUP_SCHEDULE, handler: cleanup });
}

/** The path a browser uses for a sign-in endpoint, e.g. `signInPath('login')` is `/api/auth/login`. */
export function signInPath(endpoint: keyof SignInRoutes): string {
  return routePath(routes[endpoint]);
}

/** Microsoft Graph's base URL from the settings (AUTH_GRAPH_BASE_URL, default graph.microsoft.com). */
export function graphBaseUrl(): URL {
  return new URL(services().config.graphBaseUrl);
}

export type { SignInRoutes } from './routes';
export { getUser, requireUser } from './functions/requireUser';
export { groupsOfUser } from './functions/sessionGroups';
export type {
  AuthenticatedHandler,
  RequireUserOptions,
  SignedInUser,
} from './functions/requireUser';
export { claimsChallengeOf, getAccessToken } from './functions/tokens';
export type { AccessToken, AccessTokenRequest } from './functions/tokens';
export type { Requirements } from './auth/authorization';
export type { CurrentUser } from './auth/results';
export type { UserClaims } from './ports/AuthStore';
export { AuthError, isAuthError } from './auth/errors';
export type { ReasonCode } from './auth/errors';
/** Helpers for pages of your own in the sign-in pages' style. */
export { escapeHtml, page } from './functions/pages';
export { HTML_PAGE, NO_STORE, prefersJson } from './functions/http';
