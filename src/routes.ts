/**
 * The app's HTTP routes, relative to host.json's routePrefix. The function definitions, the
 * default redirect URI and the infra checks all read them from here.
 */
export const ROUTE_PREFIX = 'api';

export const routes = {
  login: 'auth/login',
  callback: 'auth/callback',
  me: 'auth/me',
  logout: 'auth/logout',
  hello: 'hello',
  profile: 'profile',
  demo: 'demo',
  health: 'health',
  admin: 'admin',
  members: 'members',
} as const;

/** `/api/<route>`: the path a browser sees. */
export function routePath(route: string): string {
  return `/${ROUTE_PREFIX}/${route}`;
}
