import { TableAuthStore } from '../../src/adapters/tables/TableAuthStore';
import { FLOW_RETENTION_SECONDS } from '../../src/auth/cookies';
import { refreshAtMs, type CachedAccessToken } from '../../src/auth/tokenCache';
import type { BrowserClient, ClientResponse } from '../support/browserClient';
import { browserPool, signIn, signedInWithGraphConsent, USERS } from '../support/signInSteps';
import { emulatorControl } from '../support/emulatorControl';
import { startStack, type Stack } from '../support/stack';
import { authTable } from '../support/authTable';
import { TOKEN_ENDPOINT, tokenEndpointThrottledOnce } from '../support/faultProxy';
import { rewriteTokenCache, sessionOf, tokenRowOf } from '../support/tokenRows';

/**
 * Access tokens as the signed-in user, through the real parts: three instances of the served
 * functions, Azurite, and the emulator playing Entra's token endpoint and Microsoft Graph. The
 * emulator counts the token requests; the table is read raw.
 */

let stack: Stack;
const browsers = browserPool();
const JSON_ACCEPT = { accept: 'application/json' };

beforeAll(async () => {
  stack = await startStack({
    instances: 3,
    settings: { AUTH_CLIENT_CAPABILITIES: 'cp1' },
    faultProxies: true, // here only to count storage requests
  });
}, 120_000);
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});
afterEach(() => setAccessTokenSeconds(3600));

const control = () => emulatorControl(stack.emulator.browserOrigin);
const refreshCount = () => control().refreshCount();
const setAccessTokenSeconds = (seconds: number) => control().setAccessTokenSeconds(seconds);
const revoke = (user: string) => control().revoke(user);

/** Signs in asking for Graph's User.Read too (consent at sign-in), lands on the demo. */
const signInWithProfileScope = (user: string) =>
  signedInWithGraphConsent(browsers, stack.appOrigin, user);

function profile(client: BrowserClient, instance = 0, json = true): Promise<ClientResponse> {
  const origin = `http://localhost:${stack.instancePorts[instance]}`;
  return client.request(`${origin}/api/profile`, { headers: json ? JSON_ACCEPT : {} });
}

/** Until every access token cached for this browser's session has reached `timeOf` (its refresh point by default). */
async function untilTokens(
  client: BrowserClient,
  timeOf: (token: CachedAccessToken) => number = refreshAtMs,
): Promise<void> {
  const row = await tokenRowOf(authTable(stack.azurite.connectionString), client, stack.appOrigin);
  const atMs = Math.max(0, ...(row?.contents?.accessTokens ?? []).map(timeOf));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, atMs - Date.now())));
}
const untilDueForRefresh = (client: BrowserClient) => untilTokens(client);

/** Signs Adele in asking for User.Read with a 2-second access token; tokens after it live an hour. */
async function signedInWithShortToken(): Promise<BrowserClient> {
  await setAccessTokenSeconds(2);
  const client = browsers.open();
  await signIn(client, stack.appOrigin, {
    returnTo: '/api/demo',
    user: USERS.adele,
    scope: 'User.Read',
  });
  // A refreshed token must outlive its Graph call.
  await setAccessTokenSeconds(3600);
  return client;
}

describe('access tokens for APIs', () => {
  it('when a user signed in with User.Read, then the profile call uses the token from sign-in without a token request', async () => {
    const client = await signInWithProfileScope(USERS.adele);
    const before = await refreshCount();
    const storage = stack.faults!.storage;
    storage.clear();
    const response = await profile(client);
    expect(response.status).toBe(200);
    // One read of the session and one of its token cache: requireUser does not read twice.
    expect(storage.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(response.json()).toMatchObject({
      displayName: 'Adele Vance',
      userPrincipalName: USERS.adele,
    });
    expect(await refreshCount()).toBe(before);
    // The token stays on the server.
    expect(response.body).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
    expect(JSON.stringify(response.headers)).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
  });

  it('when the token expires, then one refresh gives a new token (and a rotated refresh token is stored)', async () => {
    const client = await signedInWithShortToken();
    const table = authTable(stack.azurite.connectionString);
    const first = (await tokenRowOf(table, client, stack.appOrigin))?.contents;
    expect(first?.accessTokens).toHaveLength(1);
    await untilDueForRefresh(client);
    const before = await refreshCount();
    const storage = stack.faults!.storage;
    storage.clear();
    expect((await profile(client, 1)).status).toBe(200);
    expect(await refreshCount()).toBe(before + 1);
    // The session and its token cache read once each; the lease and the result written (and,
    // on an instance's first write, its table created).
    const methods = storage.requests.map((r) => r.method);
    expect(methods.filter((m) => m === 'GET')).toHaveLength(2);
    expect(methods.filter((m) => m === 'PUT')).toHaveLength(2);
    const second = (await tokenRowOf(table, client, stack.appOrigin))?.contents;
    expect(second?.accessTokens[0]?.token).not.toBe(first?.accessTokens[0]?.token);
    expect(second?.refreshToken).toEqual(expect.any(String));
  });

  it('when the token endpoint throttles a refresh (429, Retry-After) and no token is left, then idp_throttled with the wait, the instance waits it out without asking again, the cache and lease are kept as they were, and after the wait it refreshes', async () => {
    const client = await signedInWithShortToken();
    const table = authTable(stack.azurite.connectionString);
    await untilTokens(client, (token) => token.expiresAtMs); // past its expiry: none left to serve
    const idp = stack.faults!.identityProvider;
    const tokenRequests = () => idp.requests.filter((r) => TOKEN_ENDPOINT.test(r.path)).length;
    idp.inject(tokenEndpointThrottledOnce(2));
    const before = tokenRequests();
    const throttled = await profile(client, 2);
    expect(throttled.status).toBe(503);
    expect(throttled.headers['retry-after']).toBe('2');
    expect(throttled.json()).toMatchObject({ error: 'idp_throttled' });
    const again = await profile(client, 2);
    expect([again.status, again.json<{ error: string }>().error]).toEqual([503, 'idp_throttled']);
    expect(tokenRequests()).toBe(before + 1);
    const row = await tokenRowOf(table, client, stack.appOrigin);
    expect(row?.contents?.refreshToken).toEqual(expect.any(String));
    expect(row?.raw.leaseId).toBeUndefined();
    // Once the wait the provider asked for is over, the instance asks again.
    const waitMs = Number(throttled.headers['retry-after']) * 1000;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    expect((await profile(client, 2)).status).toBe(200);
  });

  it('when the token endpoint throttles the refresh of a token still valid, then every instance serves that token for the wait with reads only, and none asks the token endpoint again', async () => {
    const client = await signInWithProfileScope(USERS.adele);
    const table = authTable(stack.azurite.connectionString);
    // Due for refresh (inside the 5-minute margin) but valid for another minute.
    const expiresAtMs = Date.now() + 60_000;
    await rewriteTokenCache(table, client, stack.appOrigin, (contents) => ({
      ...contents,
      accessTokens: contents.accessTokens.map((t) => ({
        ...t,
        issuedAtMs: expiresAtMs - 3_600_000,
        expiresAtMs,
      })),
    }));
    const idp = stack.faults!.identityProvider;
    const tokenRequests = () => idp.requests.filter((r) => TOKEN_ENDPOINT.test(r.path)).length;
    idp.inject(tokenEndpointThrottledOnce(30));
    const before = tokenRequests();
    expect((await profile(client, 0)).status).toBe(200);
    expect(tokenRequests()).toBe(before + 1);
    const row = await tokenRowOf(table, client, stack.appOrigin);
    expect(row?.contents?.refreshPause).toMatchObject({ throttled: true });
    expect(row?.raw.leaseId).toBeUndefined();

    const storage = stack.faults!.storage;
    storage.clear();
    const during = await Promise.all([0, 1, 2, 0, 1, 2].map((i) => profile(client, i)));
    expect(during.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(tokenRequests()).toBe(before + 1);
    expect(new Set(storage.requests.map((r) => r.method))).toEqual(new Set(['GET']));
  });

  it('when 50 calls on 3 instances find the token expired, then 50 answers and 1 call at the token endpoint', async () => {
    await setAccessTokenSeconds(1);
    const client = await signInWithProfileScope(USERS.adele);
    await setAccessTokenSeconds(3600); // the refreshed token must outlive the burst
    await untilDueForRefresh(client);
    const before = await refreshCount();
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => profile(client, i % 3)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(await refreshCount()).toBe(before + 1);
    const row = await tokenRowOf(
      authTable(stack.azurite.connectionString),
      client,
      stack.appOrigin,
    );
    expect(row?.raw.leaseId).toBeUndefined();
  });

  it('when the refresh token was revoked, then reauthentication_required: 401 JSON, a browser goes to sign in, and the cache holds no refresh token and no lease', async () => {
    await setAccessTokenSeconds(1);
    const client = await signInWithProfileScope(USERS.megan);
    await untilDueForRefresh(client);
    await revoke(USERS.megan);
    const before = await refreshCount();
    const denied = await profile(client, 2);
    expect(denied.status).toBe(401);
    expect(denied.json()).toMatchObject({
      error: 'reauthentication_required',
      correlationId: expect.any(String),
    });
    expect(await refreshCount()).toBe(before + 1);
    const row = await tokenRowOf(
      authTable(stack.azurite.connectionString),
      client,
      stack.appOrigin,
    );
    expect(row?.contents?.refreshToken).toBeUndefined();
    expect(row?.contents?.accessTokens).toEqual([]);
    expect(row?.raw.leaseId).toBeUndefined();

    // Nothing more is asked of the token endpoint; the browser is sent to sign in and back.
    const browser = await profile(client, 0, false);
    expect(await refreshCount()).toBe(before + 1);
    expect(browser.status).toBe(302);
    const login = new URL(browser.location!);
    expect(login.pathname).toBe('/api/auth/login');
    expect(login.searchParams.get('returnTo')).toBe('/api/profile');
    expect(login.searchParams.get('scope')).toBe('User.Read');
    // The emulator's own session is still there (Entra's revocation would ask for a login).
    // Tokens of normal life again: a 1 s token could expire before Graph sees it on a busy machine.
    await setAccessTokenSeconds(3600);
    const { final } = await client.follow(browser.location!);
    expect([final.status, final.url]).toEqual([200, `${stack.appOrigin}/api/profile`]);
    expect((await profile(client)).status).toBe(200);
  });

  it('when User.Read was never consented, then consent_required for JSON, and a browser consents through a sign-in and comes back', async () => {
    const client = browsers.open();
    await signIn(client, stack.appOrigin, { returnTo: '/api/demo', user: USERS.alex });
    const json = await profile(client);
    expect(json.status).toBe(401);
    expect(json.json()).toMatchObject({ error: 'consent_required' });

    const { final, hops } = await client.follow(`${stack.appOrigin}/api/profile`);
    expect(new URL(hops[0]!.location!).searchParams.get('scope')).toBe('User.Read');
    expect(final.status).toBe(200);
    expect(final.url).toBe(`${stack.appOrigin}/api/profile`);
    expect(final.body).toContain('Alex Wilber');
  });

  it('when Graph sends a CAE claims challenge after a revocation, then the app re-authenticates with those claims and the profile works again', async () => {
    const client = await signInWithProfileScope(USERS.alex);
    expect((await profile(client)).status).toBe(200);
    await revoke(USERS.alex);
    // The token is still valid, but Graph challenges it: refresh with claims fails (revoked), so sign in.
    const challenged = await profile(client, 1, false);
    expect(challenged.status).toBe(302);
    const login = new URL(challenged.location!);
    const claims = JSON.parse(login.searchParams.get('claims') ?? '{}');
    expect(claims).toMatchObject({ access_token: { nbf: { essential: true } } });
    const { final } = await client.follow(challenged.location!);
    expect(final.status).toBe(200);
    expect(final.body).toContain('Alex Wilber');
  });

  it('when the raw table is read, then no token, refresh token or claim of it is in clear', async () => {
    const client = await signInWithProfileScope(USERS.adele);
    expect((await profile(client)).status).toBe(200);
    const table = authTable(stack.azurite.connectionString);
    const row = await tokenRowOf(table, client, stack.appOrigin);
    const { refreshToken, accessTokens } = row!.contents!;
    const accessToken = accessTokens[0]!.token;
    const payload = accessToken.split('.')[1]!;
    const secrets = [refreshToken!, accessToken, payload, accessToken.split('.')[2]!];

    // Every property as text; binary ones as they would read in a hex editor, utf-8 and base64.
    const dump: string[] = [];
    for await (const entity of table.listEntities<Record<string, unknown>>()) {
      const fields = Object.entries(entity).map(([name, value]) =>
        value instanceof Uint8Array
          ? `${name}=${Buffer.from(value).toString('latin1')}|${Buffer.from(value).toString('utf8')}|${Buffer.from(value).toString('base64')}`
          : `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
      );
      dump.push(fields.join('\n'));
    }
    const everything = dump.join('\n');
    expect(everything).toContain(row!.raw.rowKey as string);
    for (const secret of secrets) expect(everything).not.toContain(secret);
    // Nor in any log line of the three instances or the emulator.
    const logs = stack.hostOutput() + stack.emulator.output();
    for (const secret of secrets) expect(logs).not.toContain(secret);
    // The token row itself holds no claim of the user (the tokens carry name and username).
    const tokenRow = dump.find((d) => d.includes(`rowKey=${row!.raw.rowKey as string}\n`))!;
    expect(tokenRow).toContain('sealed=');
    expect(tokenRow).not.toContain('Adele Vance');
    expect(tokenRow).not.toContain(USERS.adele);
  });

  it('when the user signs out, then the token cache row is deleted with the session', async () => {
    const client = await signInWithProfileScope(USERS.adele);
    const table = authTable(stack.azurite.connectionString);
    expect(await tokenRowOf(table, client, stack.appOrigin)).toBeDefined();
    const { key } = await sessionOf(client, stack.appOrigin);
    const logout = await client.request(`${stack.appOrigin}/api/auth/logout`, {
      method: 'POST',
      headers: { origin: stack.appOrigin, 'sec-fetch-site': 'same-origin' },
    });
    expect(logout.status).toBe(302);
    const rows = [];
    for await (const entity of table.listEntities({
      queryOptions: { filter: `PartitionKey eq '${key.partition}'` },
    })) {
      rows.push(entity.rowKey);
    }
    expect(rows).not.toContain(`t.${key.id}`);
    expect(rows).not.toContain(`s.${key.id}`);
  });
});

describe('cleanup of token caches', () => {
  it('when the session is past its absolute lifetime, then cleanup deletes its token cache row with the partition', async () => {
    const client = await signInWithProfileScope(USERS.adele);
    const table = authTable(stack.azurite.connectionString);
    expect(await tokenRowOf(table, client, stack.appOrigin)).toBeDefined();
    const store = new TableAuthStore(table, {
      flowTtlSeconds: 600,
      flowRetentionSeconds: FLOW_RETENTION_SECONDS,
      sessionAbsoluteSeconds: 28800,
    });
    // The timer's view a day later: every partition of today is past the session horizon.
    await store.deleteExpired(new Date(Date.now() + 24 * 3600 * 1000));
    expect(await tokenRowOf(table, client, stack.appOrigin)).toBeUndefined();
  });
});
