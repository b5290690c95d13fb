import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROUTE_PREFIX, routePath, routes } from '../../src/routes';
import {
  bicepFilesUnder,
  type Deployment,
  INFRA,
  loadBicep,
  loadDeployment,
  outputs,
  render,
  ROOT,
  strings,
  variables,
} from './bicep';

interface HostJson {
  extensions?: { http?: { routePrefix?: string } };
}

let deployment: Deployment;
beforeAll(async () => {
  deployment = await loadDeployment();
});

/** A variable of main.bicep rendered as far as the source determines it (unknowns become 'x'). */
function mainValue(name: string): string {
  const node = variables(deployment.main).get(name);
  if (!node) throw new Error(`main.bicep has no variable ${name}`);
  return render(node, deployment.mainScope, () => 'x');
}

describe('routes in the Bicep and in the code', () => {
  it('use the routePrefix host.json gives the Functions host', () => {
    const host = JSON.parse(readFileSync(path.join(ROOT, 'host.json'), 'utf8')) as HostJson;

    expect(host.extensions?.http?.routePrefix).toBe(ROUTE_PREFIX);
  });

  it('agree on the callback, login and demo paths', () => {
    expect(mainValue('callbackPath')).toBe(routePath(routes.callback));
    expect(mainValue('loginPath')).toBe(routePath(routes.login));
    expect(mainValue('demoPath')).toBe(routePath(routes.demo));
  });

  it('register the callback route on the app host as the redirect URI', () => {
    const redirect = new URL(mainValue('redirectUri'));

    expect(redirect.origin).toBe(mainValue('appOrigin'));
    expect(redirect.pathname).toBe(routePath(routes.callback));
  });

  it('point AUTH_LOGIN_URL at the login route of the same origin', () => {
    const login = outputs(deployment.main).get('AUTH_LOGIN_URL');
    if (!login) throw new Error('no AUTH_LOGIN_URL output');
    const url = new URL(render(login, deployment.mainScope, () => 'x'));

    expect(url.origin).toBe(mainValue('appOrigin'));
    expect(url.pathname).toBe(routePath(routes.login));
  });

  it('name no app path in any Bicep string that the code does not register', async () => {
    const known = new Set(Object.values(routes).map(routePath));
    const appPath = new RegExp(`/${ROUTE_PREFIX}/[\\w./-]*`, 'g');
    const unknown: string[] = [];
    for (const file of bicepFilesUnder(INFRA)) {
      const bicep = await loadBicep(file);
      for (const text of strings(bicep)) {
        for (const [found] of text.matchAll(appPath)) {
          if (!known.has(found)) unknown.push(`${file}: ${found}`);
        }
      }
    }

    expect(unknown).toEqual([]);
  });
});
