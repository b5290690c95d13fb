import { isAuthError } from '../../../src/auth/errors';
import { startLogin } from '../../../src/auth/startLogin';
import { createHarness } from '../../support/flowHarness';

/** Where startLogin sends a request that arrived over another scheme than the redirect URI's. */

const LOCAL_REDIRECT = new URL('http://localhost:7071/api/auth/callback');

async function login(url: string, forwardedProto?: string) {
  const h = await createHarness({ redirectUri: LOCAL_REDIRECT });
  return startLogin(h.ctx, { url: new URL(url), cookies: {}, forwardedProto }).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
}

describe('startLogin and the scheme of the request', () => {
  it('when https is forwarded for the redirect URI host and port but the redirect URI is http, then misconfigured naming AUTH_REDIRECT_URI', async () => {
    const outcome = await login('http://localhost:7071/api/auth/login', 'https');
    expect('error' in outcome && isAuthError(outcome.error) && outcome.error.code).toBe(
      'misconfigured',
    );
    expect(String((outcome as { error: Error }).error.message)).toContain('AUTH_REDIRECT_URI');
  });

  it('when https arrives on another port of the same host (a local TLS proxy), then it moves to the redirect URI origin as before', async () => {
    const outcome = await login('https://localhost/api/auth/login?returnTo=/x');
    expect(outcome).toMatchObject({
      result: { kind: 'redirect', location: 'http://localhost:7071/api/auth/login?returnTo=/x' },
    });
  });

  it('when plain http is forwarded on the redirect URI origin, then the flow starts', async () => {
    const outcome = await login('http://localhost:7071/api/auth/login', 'http');
    expect(outcome).toMatchObject({ result: { kind: 'redirect', cookies: [expect.anything()] } });
  });
});
