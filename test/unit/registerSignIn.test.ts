import type { app as functionsApp } from '@azure/functions';
import { loadConfig } from '../../src/config';
import { registerSignIn, signInPath } from '../../src/index';

/** registerSignIn: what it registers on the app's own `app`, and routes moved by its options. */

interface Registration {
  kind: 'http' | 'timer';
  name: string;
  options: { route?: string; methods?: string[]; authLevel?: string; schedule?: string };
}

function recordingApp(): { app: typeof functionsApp; registered: Registration[] } {
  const registered: Registration[] = [];
  const app = {
    http: (name: string, options: Registration['options']) =>
      registered.push({ kind: 'http', name, options }),
    timer: (name: string, options: Registration['options']) =>
      registered.push({ kind: 'timer', name, options }),
  } as unknown as typeof functionsApp;
  return { app, registered };
}

const SETTINGS = {
  AUTH_TENANT_ID: '00000000-0000-4000-8000-000000000001',
  AUTH_CLIENT_ID: '00000000-0000-4000-8000-000000000002',
  AUTH_CLIENT_SECRET: 'not-a-real-secret',
  AUTH_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
};

describe('registerSignIn', () => {
  it('when called with routes and a prefix, then the endpoints, their links and the default redirect URI use them', () => {
    const { app, registered } = recordingApp();

    registerSignIn(app, { routes: { login: 'signin', callback: 'signin/done' }, routePrefix: 'x' });

    expect(registered.map((r) => [r.kind, r.name, r.options.route ?? r.options.schedule])).toEqual([
      ['http', 'authLogin', 'signin'],
      ['http', 'authCallback', 'signin/done'],
      ['http', 'authMe', 'auth/me'],
      ['http', 'authLogout', 'auth/logout'],
      ['http', 'authHealth', 'health'],
      ['timer', 'authCleanup', '0 */5 * * * *'],
    ]);
    expect(registered.filter((r) => r.kind === 'http').map((r) => r.options.authLevel)).toEqual(
      Array(5).fill('anonymous'),
    );
    expect([signInPath('login'), signInPath('me')]).toEqual(['/x/signin', '/x/auth/me']);
    expect(loadConfig({ ...SETTINGS, PORT: '7071' }).redirectUri.href).toBe(
      'http://localhost:7071/x/signin/done',
    );
  });

  it('when a route is not a relative route, then it says which option, before registering anything', () => {
    const { app, registered } = recordingApp();

    expect(() => registerSignIn(app, { routes: { logout: '/abs?x' } })).toThrow(
      /routes\.logout must be a relative route/,
    );
    expect(registered).toEqual([]);
  });

  it('when one route of several is not a route, then none of them is changed', () => {
    const { app } = recordingApp();

    expect(() => registerSignIn(app, { routes: { me: 'whoami', logout: '/abs' } })).toThrow(
      /routes\.logout/,
    );
    expect(signInPath('me')).toBe('/x/auth/me');
  });

  it('when it is called a second time, then it says to call it once, and registers nothing more', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('../../src/index') as typeof import('../../src/index');
      const { app, registered } = recordingApp();
      fresh.registerSignIn(app);
      const count = registered.length;

      expect(() => fresh.registerSignIn(app, { routes: { login: 'again' } })).toThrow(
        /registerSignIn was called a second time: call it once per app/,
      );
      expect(registered).toHaveLength(count);
      expect(fresh.signInPath('login')).toBe('/api/auth/login');
    });
  });
});
