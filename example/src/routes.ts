/** The example app's own routes (the sign-in endpoints' are the library's: signInPath). */
export const exampleRoutes = {
  demo: 'demo',
  hello: 'hello',
  profile: 'profile',
  admin: 'admin',
  members: 'members',
  report: 'report',
} as const;

/** host.json's routePrefix. */
export const EXAMPLE_ROUTE_PREFIX = 'api';

/** `/api/<route>`: the path a browser sees. */
export function examplePath(name: keyof typeof exampleRoutes): string {
  return `/${EXAMPLE_ROUTE_PREFIX}/${exampleRoutes[name]}`;
}
