import { DEV_TENANT_ID } from '../../dev/emulator/devRegistration';
import type { BrowserClient } from '../support/browserClient';
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import type { EmulatorProcess } from '../support/emulatorProcess';
import {
  FABRIKAM_TENANT_ID as FABRIKAM,
  startMultiTenantApp,
  type MultiTenantApp,
} from '../support/multiTenantApp';
import { browserPool, me, openLogin, pickUser } from '../support/signInSteps';
import type { Stack } from '../support/stack';
import { userTokenResponse } from '../support/userApiToken';

/**
 * Two tenants through the real parts: the app signs in at the emulator's multi-tenant authority
 * (`/organizations`, whose discovery names the issuer `https://.../{tenantid}/v2.0`) and allows
 * only the emulator's own tenant (Contoso). Adele (Contoso) signs in; Pradeep, of a second tenant
 * (Fabrikam) and an Admin there, gets tenant_not_allowed, at the callback and with a bearer token.
 */

const ADELE = 'adele.vance@contoso.dev';
const PRADEEP = 'pradeep.gupta@fabrikam.dev';

let app: MultiTenantApp;
let emulator: EmulatorProcess;
let appOrigin: string;
const browsers = browserPool();

beforeAll(async () => {
  app = await startMultiTenantApp();
  ({ emulator, appOrigin } = app);
}, 120_000);
afterAll(async () => {
  await browsers.closeAll();
  await app?.stop();
});

async function signIn(client: BrowserClient, user: string) {
  const loginPage = await openLogin(client, appOrigin, '?returnTo=%2Fapi%2Fadmin');
  return client.request(await pickUser(client, loginPage, user));
}

/** A token for the app's API as the emulator would issue it in that tenant. */
async function apiToken(tenant: string, user: { oid: string; name: string }): Promise<string> {
  const issuer = `${new URL(emulator.authority).origin}/${tenant}/v2.0`;
  const response = await fetch(`${emulator.browserOrigin}/_emulator/tokens/mint`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      issuer,
      lifetimeSeconds: 600,
      claims: {
        aud: emulator.clientId,
        tid: tenant,
        oid: user.oid,
        sub: user.oid,
        name: user.name,
        scp: 'access_as_user',
        roles: ['Admin'],
        azp: '33333333-3333-4333-8333-333333333333',
        ver: '2.0',
      },
    }),
  });
  return ((await response.json()) as { token: string }).token;
}

describe('two tenants at the multi-tenant authority (organizations)', () => {
  it("when the authority's discovery is read, then its issuer is Entra's {tenantid} template", async () => {
    const response = await fetch(
      `${emulator.browserOrigin}/organizations/v2.0/.well-known/openid-configuration`,
    );
    const discovery = (await response.json()) as Record<string, string>;
    expect(discovery.issuer).toBe(`${new URL(emulator.authority).origin}/{tenantid}/v2.0`);
    expect(discovery.token_endpoint).toMatch(/\/organizations\/oauth2\/v2\.0\/token$/);
  });

  it('when a user of the allowed tenant signs in, then the session names her tenant', async () => {
    const client = browsers.open();
    const callback = await signIn(client, ADELE);
    expect(callback.status).toBe(302);
    expect(callback.headers.location).toBe(`${appOrigin}/api/admin`);
    const answer = (await me(client, appOrigin)).json() as { user: { tid: string; oid: string } };
    expect(answer.user.tid).toBe(DEV_TENANT_ID);
    expect((await client.request(`${appOrigin}/api/admin`)).status).toBe(200);
  });

  it('when a user of another tenant signs in, then tenant_not_allowed (page and JSON), and no session', async () => {
    const client = browsers.open();
    const page = await signIn(client, PRADEEP);
    expect(page.status).toBe(403);
    expect(page.body).toContain('data-reason="tenant_not_allowed"');
    expect(page.body).toContain('Your organisation is not allowed to use this app');
    expect((await me(client, appOrigin)).status).toBe(401);

    const jsonClient = browsers.open();
    const loginPage = await openLogin(jsonClient, appOrigin, '');
    const callbackUrl = await pickUser(jsonClient, loginPage, PRADEEP);
    const json = await jsonClient.request(callbackUrl, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(403);
    expect(json.json()).toMatchObject({ error: 'tenant_not_allowed' });
  });

  it("when bearer tokens of each tenant call the API, then the allowed tenant's is accepted and the other's gets tenant_not_allowed", async () => {
    const call = (token: string) =>
      fetch(`${appOrigin}/api/admin`, { headers: { authorization: `Bearer ${token}` } });
    const contoso = await call(
      await apiToken(DEV_TENANT_ID, {
        oid: '3e4e823f-00a0-44bc-933c-b5b9f65b2d5a',
        name: 'Adele Vance',
      }),
    );
    expect(contoso.status).toBe(200);
    const fabrikam = await call(
      await apiToken(FABRIKAM, {
        oid: '5d9c1a7e-3b2f-4c8d-a6e1-7f0b9c2d4e6a',
        name: 'Pradeep Gupta',
      }),
    );
    // As every refused bearer token (bearer.test.ts): 401 with RFC 6750's challenge.
    expect(fabrikam.status).toBe(401);
    expect(await fabrikam.json()).toMatchObject({ error: 'tenant_not_allowed' });
    expect(fabrikam.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it("when a user of the other tenant gets a token for the app's API at the organizations authority, then it names his tenant, and the app refuses it", async () => {
    const origin = new URL(emulator.authority).origin;
    const viaOrganizations = {
      appOrigin,
      ca: readFileSync(emulator.certPath),
      emulator: { ...emulator, tenantId: 'organizations', authority: `${origin}/organizations` },
    } as unknown as Stack;
    const scope = `api://${emulator.clientId}/access_as_user`;
    const tokens = await userTokenResponse(browsers.open(), viaOrganizations, PRADEEP, scope);
    const accessToken = tokens.access_token as string;
    expect(decodeJwt(accessToken)).toMatchObject({
      tid: FABRIKAM,
      iss: `${origin}/${FABRIKAM}/v2.0`,
    });
    expect(decodeJwt(tokens.id_token as string)).toMatchObject({
      tid: FABRIKAM,
      iss: `${origin}/${FABRIKAM}/v2.0`,
    });
    const answer = await fetch(`${appOrigin}/api/admin`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: 'tenant_not_allowed' });
  });
});
