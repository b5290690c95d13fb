/**
 * The sign-in endpoints' HTTP routes, relative to host.json's routePrefix. registerSignIn may
 * change them (and the prefix) once, before the app serves anything; the function registrations,
 * the default redirect URI, the pages' links and the infra checks all read them from here.
 */
export const DEFAULT_ROUTE_PREFIX = 'api';
/** The prefix of this repository's own app (host.json). */
export const ROUTE_PREFIX = DEFAULT_ROUTE_PREFIX;

/** The sign-in endpoints' routes, relative to host.json's routePrefix (registerSignIn's `routes`). */
export interface SignInRoutes {
  login: string;
  callback: string;
  me: string;
  logout: string;
  health: string;
}

export const DEFAULT_ROUTES: Readonly<SignInRoutes> = {
  login: 'auth/login',
  callback: 'auth/callback',
  me: 'auth/me',
  logout: 'auth/logout',
  health: 'health',
};

export const routes: SignInRoutes = { ...DEFAULT_ROUTES };

/** The login function's name, as registerSignIn registers it: how a host tells a sign-in app. */
export const LOGIN_FUNCTION_NAME = 'authLogin';
let routePrefix = DEFAULT_ROUTE_PREFIX;

/** Throws, naming the option, when a route override is not a relative route. */
export function checkRoutes(overrides: Partial<SignInRoutes> = {}): void {
  for (const [name, route] of Object.entries(overrides)) {
    if (route === undefined) continue;
    if (typeof route !== 'string' || !/^[A-Za-z0-9._~\-/]+$/.test(route) || route.startsWith('/')) {
      throw new TypeError(
        `routes.${name} must be a relative route like "auth/login", got ${JSON.stringify(route)}.`,
      );
    }
  }
}

/**
 * Sets the routes and the prefix (host.json's routePrefix) the sign-in endpoints use: all of
 * them or, when one is not a route, none.
 */
export function configureRoutes(overrides: Partial<SignInRoutes> = {}, prefix?: string): void {
  checkRoutes(overrides);
  for (const [name, route] of Object.entries(overrides)) {
    if (route !== undefined) routes[name as keyof SignInRoutes] = route;
  }
  if (prefix !== undefined) routePrefix = prefix.replace(/^\/+|\/+$/g, '');
}

/** `/api/<route>`: the path a browser sees. */
export function routePath(route: string): string {
  return routePrefix ? `/${routePrefix}/${route}` : `/${route}`;
}
