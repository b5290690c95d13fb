import { decodeJwt } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { GRAPH_APP_ID } from '../../dev/emulator/apiTokens';
import users from '../../dev/emulator/users.json';
import type { BrowserClient } from '../support/browserClient';
import { emulatorControl } from '../support/emulatorControl';
import { browserPool, signIn, signedInWithGraphConsent, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';
import { authTable } from '../support/authTable';
import { tokenRowOf } from '../support/tokenRows';

/**
 * The emulator as Entra's token endpoint and as Microsoft Graph for APIs, called directly (as
 * Entra and Graph would be) with the refresh and access tokens the app holds for a browser's
 * session, read from the table with that browser's secret.
 */

let stack: Stack;
const browsers = browserPool();

beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});

const control = () => emulatorControl(stack.emulator.browserOrigin);

const signInWithProfileScope = (user: string) =>
  signedInWithGraphConsent(browsers, stack.appOrigin, user);

describe('the emulator plays Entra and Graph for APIs', () => {
  const https = () => new Agent({ connect: { ca: stack.ca } });
  let agent: Agent;
  beforeAll(() => {
    agent = https();
  });
  afterAll(() => agent.close());

  /** The refresh token the app holds for this browser's session, read with the browser's secret. */
  async function refreshTokenOf(client: BrowserClient): Promise<string> {
    const row = await tokenRowOf(
      authTable(stack.azurite.connectionString),
      client,
      stack.appOrigin,
    );
    return row!.contents!.refreshToken!;
  }

  async function tokenRequest(refreshToken: string, scope: string) {
    const response = await undiciFetch(`${stack.emulator.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: agent,
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: stack.emulator.clientId,
        client_secret: stack.emulator.clientSecret,
        scope: `${scope} openid offline_access`,
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  const graph = (path: string, token?: string) =>
    undiciFetch(`https://localhost:${stack.emulator.port}${path}`, {
      dispatcher: agent,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it("issues a JWT for the app's own api://<client id> once consented, with aud = the client id and the scope in scp", async () => {
    const apiScope = `api://${stack.emulator.clientId}/Orders.Read`;
    const before = browsers.open();
    await signIn(before, stack.appOrigin, { returnTo: '/api/demo', user: USERS.adele });
    const refused = await tokenRequest(await refreshTokenOf(before), apiScope);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      error: 'invalid_grant',
      suberror: 'consent_required',
      error_codes: [65001],
    });

    const client = browsers.open();
    await signIn(client, stack.appOrigin, {
      returnTo: '/api/demo',
      user: USERS.adele,
      scope: apiScope,
    });
    const issued = await tokenRequest(await refreshTokenOf(client), apiScope);
    expect(issued.status).toBe(200);
    const claims = decodeJwt(issued.body.access_token as string);
    expect(claims).toMatchObject({
      aud: stack.emulator.clientId,
      iss: stack.emulator.issuer,
      scp: 'Orders.Read',
      tid: stack.emulator.tenantId,
      azp: stack.emulator.clientId,
      roles: ['Admin'],
      ver: '2.0',
    });
    expect(issued.body.scope).toContain(apiScope);

    const twoResources = await tokenRequest(await refreshTokenOf(client), `${apiScope} User.Read`);
    expect(twoResources.status).toBe(400);
    expect(String(twoResources.body.error_description)).toMatch(/^AADSTS28000/);
  });

  it('answers /v1.0/me/memberOf in pages, and refuses requests without a valid Graph token as Graph does', async () => {
    const client = await signInWithProfileScope(USERS.megan);
    const row = await tokenRowOf(
      authTable(stack.azurite.connectionString),
      client,
      stack.appOrigin,
    );
    const token = row!.contents!.accessTokens[0]!.token;
    expect(decodeJwt(token)).toMatchObject({ aud: GRAPH_APP_ID, scp: 'User.Read' });

    const ids: string[] = [];
    let next: string | undefined = '/v1.0/me/memberOf?$top=100';
    let pages = 0;
    while (next) {
      const page = (await (await graph(next, token)).json()) as {
        value: { id: string; '@odata.type': string }[];
        '@odata.nextLink'?: string;
      };
      ids.push(...page.value.map((g) => g.id));
      next =
        page['@odata.nextLink'] &&
        new URL(page['@odata.nextLink']).pathname + new URL(page['@odata.nextLink']).search;
      pages++;
    }
    const megan = (users as { preferred_username: string; groups: string[] }[]).find(
      (u) => u.preferred_username === USERS.megan,
    )!;
    expect(pages).toBe(2);
    expect(ids).toEqual(megan.groups);

    const anonymous = await graph('/v1.0/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe(
      'InvalidAuthenticationToken',
    );
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(342)}`;
    expect((await graph('/v1.0/me', forged)).status).toBe(401);
  });

  it("counts token requests by grant type, and the revoke switch makes the user's refresh tokens fail as Entra's do", async () => {
    const client = await signInWithProfileScope(USERS.megan);
    const refreshToken = await refreshTokenOf(client);
    const before = await control().tokenRequests();
    expect((await tokenRequest(refreshToken, 'User.Read')).status).toBe(200);
    await control().revoke(USERS.megan);
    const revoked = await tokenRequest(refreshToken, 'User.Read');
    expect(revoked.status).toBe(400);
    expect(revoked.body).toMatchObject({ error: 'invalid_grant', error_codes: [50173] });
    expect((await control().tokenRequests()).total).toBe(before.total + 2);
  });
});
