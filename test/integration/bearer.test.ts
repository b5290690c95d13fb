import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { daemonAccessToken } from '../../dev/apiTokens';
import { PROJECT_ROOT } from '../../dev/processes';
import { TEST_CERT_DIR } from '../support/emulatorProcess';
import { browserPool, signIn, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';
import { userTokenResponse } from '../support/userApiToken';

/**
 * API callers with `Authorization: Bearer`, through the real parts: the served functions, the
 * emulator issuing tokens (authorization code for a user, client credentials for a daemon, and
 * its mint switch for shapes the flows do not produce), its JWKS, Azurite. No cookie anywhere.
 */

let stack: Stack;
const browsers = browserPool();
let adeleToken: string;
let adeleIdToken: string;

beforeAll(async () => {
  stack = await startStack({ instances: 1 });
  const scope = `api://${stack.emulator.clientId}/access_as_user`;
  const tokens = await userTokenResponse(browsers.open(), stack, USERS.adele, scope);
  adeleToken = tokens.access_token as string;
  adeleIdToken = tokens.id_token as string;
}, 120_000);
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});

async function callAdmin(token: string | undefined, accept = 'application/json') {
  const response = await fetch(`${stack.appOrigin}/api/admin`, {
    headers: { accept, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
  });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    setCookie: response.headers.get('set-cookie'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

function daemonToken(resource?: string) {
  const { emulator } = stack;
  return daemonAccessToken(
    {
      authority: emulator.authority,
      ca: stack.ca,
      ...emulator.daemon,
      apiClientId: emulator.clientId,
    },
    resource,
  );
}

async function mint(claims: Record<string, unknown>, lifetimeSeconds = 600, issuer?: string) {
  const response = await fetch(`${stack.emulator.browserOrigin}/_emulator/tokens/mint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ claims, lifetimeSeconds, issuer }),
  });
  return ((await response.json()) as { token: string }).token;
}

/** The claims of a valid delegated token for Adele (as the emulator issues them). */
function adeleClaims(): Record<string, unknown> {
  const payload = JSON.parse(Buffer.from(adeleToken.split('.')[1]!, 'base64url').toString());
  const {
    iss: _iss,
    iat: _iat,
    nbf: _nbf,
    exp: _exp,
    ...rest
  } = payload as Record<string, unknown>;
  return rest;
}

describe('bearer tokens', () => {
  it("when an Admin's access token for the API's scope is sent, then the function runs, with no session or cookie", async () => {
    const answer = await callAdmin(adeleToken, 'text/html');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ admin: true, user: 'Adele Vance', caller: 'delegated' });
    expect(answer.setCookie).toBeNull();
  });

  it("when a daemon's app-only token (client credentials) with the app role is sent, then the function runs", async () => {
    const answer = await callAdmin(await daemonToken());
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ admin: true, caller: 'app' });
  });

  it('when no token and no session, then 401 with WWW-Authenticate: Bearer', async () => {
    const answer = await callAdmin(undefined);
    expect(answer.status).toBe(401);
    expect(answer.challenge).toBe('Bearer');
  });

  it.each([
    [
      'wrong audience (a Graph token of the daemon)',
      () => daemonToken('https://graph.microsoft.com'),
    ],
    [
      'a token of another app (aud another client id)',
      () => mint({ ...adeleClaims(), aud: '99999999-9999-4999-8999-999999999999' }),
    ],
    ['expired', () => mint(adeleClaims(), -600)],
    ['an ID token presented as an access token', () => Promise.resolve(adeleIdToken)],
    [
      'an issuer of another tenant',
      () =>
        mint(
          { ...adeleClaims(), tid: 'other-tenant' },
          600,
          stack.emulator.issuer.replace(stack.emulator.tenantId, 'other-tenant'),
        ),
    ],
    [
      'not signed by the provider',
      () => Promise.resolve(`${adeleToken.slice(0, adeleToken.lastIndexOf('.'))}.AAAA`),
    ],
  ])('when %s, then 401 invalid_token', async (_name, token) => {
    const answer = await callAdmin(await token());
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(
      /^Bearer error="invalid_token", error_description="invalid_access_token"$/,
    );
    expect(answer.body).toMatchObject({
      error: 'invalid_access_token',
      correlationId: expect.any(String),
    });
  });

  it("when the token's tenant is not the allowed one (issuer matches its tid), then 401 tenant_not_allowed", async () => {
    // Same issuer as the app's but another tid: the single-tenant app accepts only its tenant.
    const answer = await callAdmin(await mint({ ...adeleClaims(), tid: 'other-tenant' }));
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: 'tenant_not_allowed' });
    expect(answer.challenge).toContain('error="invalid_token"');
  });

  it('when the scope is missing, then 403 insufficient_scope naming the scope', async () => {
    const answer = await callAdmin(await mint({ ...adeleClaims(), scp: 'Other.Scope' }));
    expect(answer.status).toBe(403);
    expect(answer.challenge).toBe(
      `Bearer error="insufficient_scope", scope="api://${stack.emulator.clientId}/access_as_user"`,
    );
    expect(answer.body).toMatchObject({ error: 'forbidden' });
  });

  it('when a user token has the scope but the user lacks the role, then 403 forbidden', async () => {
    const answer = await callAdmin(await mint({ ...adeleClaims(), roles: ['Reader'] }));
    expect(answer.status).toBe(403);
    expect(answer.body.message).toContain('"Admin"; you have "Reader"');
  });

  it('npm run api-call (scripts/apiCall.ts): the daemon gets a token from the emulator and calls the Admin-only function', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/apiCall.ts'],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          APP_ORIGIN: stack.appOrigin,
          EMULATOR_PORT: String(stack.emulator.port),
          EMULATOR_CERT_DIR: TEST_CERT_DIR,
          EMULATOR_DAEMON_CLIENT_SECRET: stack.emulator.daemon.clientSecret,
        },
      },
    );
    expect(stdout).toContain('with the bearer token: 200 {"admin":true');
    expect(stdout).toContain('without a token: 401');
    expect(stdout).toContain('WWW-Authenticate: Bearer');
    expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
  }, 60_000);
});

describe('an API for bearer tokens only (/api/report names only appRoles and scopes)', () => {
  const reportUrl = () => `${stack.appOrigin}/api/report`;

  it("when a daemon's or a user's token is sent, then it runs for that caller", async () => {
    const daemon = await fetch(reportUrl(), {
      headers: { authorization: `Bearer ${await daemonToken()}` },
    });
    expect(daemon.status).toBe(200);
    expect(await daemon.json()).toMatchObject({ caller: 'app', clientAppId: expect.any(String) });
    const user = await fetch(reportUrl(), { headers: { authorization: `Bearer ${adeleToken}` } });
    expect([user.status, ((await user.json()) as { caller: string }).caller]).toEqual([
      200,
      'delegated',
    ]);
  });

  it('when a signed-in browser session opens it, then forbidden (no session passes for want of a check), page and JSON', async () => {
    const client = browsers.open();
    const done = await signIn(client, stack.appOrigin, {
      returnTo: '/api/demo',
      user: USERS.adele,
    });
    expect(done.status).toBe(302);
    const json = await client.request(reportUrl(), { headers: { accept: 'application/json' } });
    expect(json.status).toBe(403);
    expect(json.json()).toMatchObject({
      error: 'forbidden',
      message: expect.stringContaining(
        ': This is an API for bearer tokens: it needs the delegated',
      ),
    });
    const page = await client.request(reportUrl());
    expect([page.status, page.headers.location]).toEqual([403, undefined]);
    expect(page.body).toContain('data-reason="forbidden"');
  });

  it('when an anonymous browser opens it, then 401 with WWW-Authenticate: Bearer, not a sign-in that would end in forbidden', async () => {
    const response = await fetch(reportUrl(), {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    expect([response.status, response.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
  });
});
