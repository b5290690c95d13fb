import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROUTE_PREFIX, routePath, routes } from '../../src/routes';
import { examplePath, exampleRoutes } from '../../example/src/routes';
import type { PlannedDeployment } from './support/armTemplate';
import { ROOT } from './support/bicepCli';
import { describeCompiled, plan, single } from './support/plannedInfra';

interface HostJson {
  extensions?: { http?: { routePrefix?: string } };
}

describe('routes', () => {
  it('use the routePrefix host.json gives the Functions host', () => {
    const host = JSON.parse(readFileSync(path.join(ROOT, 'host.json'), 'utf8')) as HostJson;

    expect(host.extensions?.http?.routePrefix).toBe(ROUTE_PREFIX);
  });
});

describeCompiled('routes in the compiled template and in the code', () => {
  let deployment: PlannedDeployment;
  let origin: string;
  beforeAll(() => {
    deployment = plan();
    const site = single(deployment, 'Microsoft.Web/sites');
    origin = `https://<${site.type}/${site.name}.defaultHostName>`;
  });

  it('point the login, demo and redirect outputs at those routes on the site host', () => {
    expect(deployment.outputs).toMatchObject({
      AUTH_LOGIN_URL: `${origin}${routePath(routes.login)}`,
      DEMO_URL: `${origin}${examplePath('demo')}`,
      AUTH_REDIRECT_URI: `${origin}${routePath(routes.callback)}`,
      SERVICE_API_URI: origin,
    });
  });

  it('name no app path that the code does not register', () => {
    // The sign-in endpoints (registerSignIn) and the example app's own functions.
    const known = new Set([
      ...Object.values(routes).map(routePath),
      ...Object.keys(exampleRoutes).map((name) => examplePath(name as keyof typeof exampleRoutes)),
    ]);
    const everything = JSON.stringify(deployment, (_, v: unknown) =>
      v instanceof Object && 'label' in v ? String(v) : v,
    );
    const paths = [...everything.matchAll(new RegExp(`/${ROUTE_PREFIX}/[\\w./-]*`, 'g'))].map(
      ([p]) => p,
    );

    expect(paths.length).toBeGreaterThanOrEqual(3);
    expect(paths.filter((p) => !known.has(p))).toEqual([]);
  });
});
