import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bundledUsers from '../../dev/emulator/users.json';
import type { TestUser } from '../../dev/emulator/emulator';
import type { BrowserClient } from '../support/browserClient';
import { TOKEN_ENDPOINT, tokenEndpointThrottledOnce } from '../support/faultProxy';
import { browserPool, me, openLogin, pickUser, signIn, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/**
 * The identity provider misbehaving, through the real parts: the emulator behind the fault
 * proxy (discovery, token endpoint and keys all cross it), Azurite, the served functions.
 */

const IDP_TIMEOUT_MS = 2500;
/** Generous slack over a configured bound: the machine is shared and noisy. */
const SLACK_MS = 5000;
const MANY_GROUPS = 'many.groups@contoso.dev';
const HUGE_NAME = 'huge.name@contoso.dev';
const KEYS = /\/discovery\/v2\.0\/keys/;

let stack: Stack;
let usersDir: string;
const browsers = browserPool();
const browser = () => browsers.open();
const json = { headers: { accept: 'application/json' } };

function testUser(username: string, extra: Partial<TestUser>): TestUser {
  return {
    oid: randomUUID(),
    preferred_username: username,
    name: username,
    email: username,
    roles: [],
    groups: [],
    ...extra,
  };
}

beforeAll(async () => {
  usersDir = mkdtempSync(path.join(os.tmpdir(), 'emulator-users-'));
  const usersFile = path.join(usersDir, 'users.json');
  const users: TestUser[] = [
    ...(bundledUsers as TestUser[]),
    testUser(MANY_GROUPS, { groups: Array.from({ length: 5000 }, () => randomUUID()) }),
    // 40,000 characters: more than one Table Storage property holds, whatever is capped.
    testUser(HUGE_NAME, { name: 'N'.repeat(40_000) }),
  ];
  writeFileSync(usersFile, JSON.stringify(users));
  stack = await startStack({
    faultProxies: true,
    emulatorUsersFile: usersFile,
    settings: { AUTH_IDP_TIMEOUT_MS: String(IDP_TIMEOUT_MS) },
  });
});
afterEach(() => stack.faults?.identityProvider.clear());
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
  rmSync(usersDir, { recursive: true, force: true });
});

const idp = () => stack.faults!.identityProvider;

/** A browser at its callback: signed in at the provider, the code not yet redeemed. */
async function atCallback(
  user: string = USERS.adele,
  query = '',
): Promise<{ client: BrowserClient; callbackUrl: string }> {
  const client = browser();
  const callbackUrl = await pickUser(client, await openLogin(client, stack.appOrigin, query), user);
  return { client, callbackUrl };
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await run();
  return { value, ms: Date.now() - started };
}

/** An RSA public key the provider never signs with. */
function unrelatedKeySet(): string {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'not-the-signing-key', use: 'sig' }],
  });
}

// Until the rotation test below, the app holds no key set: each sign-in here fetches the keys.
describe('when the key set (JWKS) is broken', () => {
  it.each([
    [
      '500 with an HTML body',
      { status: 500, headers: { 'content-type': 'text/html' }, body: '<h1>oops</h1>' },
    ],
    [
      '200 with garbage',
      { status: 200, headers: { 'content-type': 'application/json' }, body: 'not json{' },
    ],
    [
      '200 with an empty key set',
      { status: 200, headers: { 'content-type': 'application/json' }, body: '{"keys":[]}' },
    ],
  ])(
    'answering %s, then token_exchange_failed (never invalid_id_token), and the broken set is not kept',
    async (_what, answer) => {
      idp().inject({ path: KEYS, fault: { kind: 'respond', ...answer } });
      for (const user of [USERS.adele, USERS.alex]) {
        const { client, callbackUrl } = await atCallback(user);
        const callback = await client.request(callbackUrl, json);
        expect(callback.status).toBe(502);
        expect(callback.json()).toMatchObject({ error: 'token_exchange_failed' });
      }
      // Not cached: the second sign-in asked for the keys again.
      expect(idp().requests.filter((r) => KEYS.test(r.path))).toHaveLength(2);
    },
  );

  it('never answering, then token_exchange_failed within AUTH_IDP_TIMEOUT_MS', async () => {
    const { client, callbackUrl } = await atCallback();
    idp().inject({ path: KEYS, fault: { kind: 'blackhole' } });
    const callback = await timed(() => client.request(callbackUrl, json));
    expect(callback.value.status).toBe(502);
    expect(callback.value.json()).toMatchObject({ error: 'token_exchange_failed' });
    expect(callback.ms).toBeLessThan(IDP_TIMEOUT_MS + SLACK_MS);
  });
});

it('when a key appears right after the app fetched the key set (rotation), then the unknown kid triggers one refetch and the sign-in succeeds', async () => {
  // The app's first fetch gets a set without the signing key, as if fetched just before the
  // provider rotated its new key in; the refetch for the unknown kid sees the real set.
  idp().inject({
    path: KEYS,
    fault: { kind: 'respond', status: 200, body: unrelatedKeySet() },
    times: 1,
  });
  const { client, callbackUrl } = await atCallback(USERS.alex);
  const callback = await client.request(callbackUrl, json);
  expect(callback.status).toBe(302);
  expect(idp().requests.filter((r) => KEYS.test(r.path))).toHaveLength(2);
});

it('when the token endpoint answers 429 with Retry-After for one user, then that user gets idp_throttled with Retry-After, and another user signs in at once', async () => {
  const first = await atCallback(USERS.adele);
  const second = await atCallback(USERS.megan, '?returnTo=/second');
  idp().inject(tokenEndpointThrottledOnce(30));

  const throttled = await first.client.request(first.callbackUrl, json);
  expect(throttled.status).toBe(503);
  expect(throttled.headers['retry-after']).toBe('30');
  expect(throttled.json()).toMatchObject({ error: 'idp_throttled' });
  expect(stack.hostOutput()).toMatch(/auth failure idp_throttled .*429.*Retry-After 30 s/);

  // Another user's sign-in reaches the provider and succeeds (msal-node shared a throttle).
  const other = await second.client.request(second.callbackUrl, json);
  expect(other.status).toBe(302);
  expect(other.location).toBe(`${stack.appOrigin}/second`);
  const tokenCalls = () => idp().requests.filter((r) => TOKEN_ENDPOINT.test(r.path)).length;
  expect(tokenCalls()).toBe(2);

  // The throttled sign-in itself is held for its Retry-After: a reload does not ask again.
  const reload = await first.client.request(first.callbackUrl, json);
  expect(reload.status).toBe(503);
  expect(reload.json()).toMatchObject({ error: 'idp_throttled' });
  expect(Number(reload.headers['retry-after'])).toBeGreaterThan(0);
  expect(tokenCalls()).toBe(2);
});

it('when the token endpoint answers 500 for one user, then token_exchange_failed for that user only', async () => {
  const first = await atCallback(USERS.adele);
  const second = await atCallback(USERS.alex);
  idp().inject({
    method: 'POST',
    path: TOKEN_ENDPOINT,
    fault: {
      kind: 'respond',
      status: 500,
      headers: { 'content-type': 'text/html' },
      body: '<html>Internal error</html>',
    },
    times: 1,
  });
  const failed = await first.client.request(first.callbackUrl, json);
  expect(failed.status).toBe(502);
  expect(failed.json()).toMatchObject({ error: 'token_exchange_failed' });
  expect((await second.client.request(second.callbackUrl, json)).status).toBe(302);
  // The provider failed, the code was never redeemed: a reload finishes this sign-in.
  expect((await first.client.request(first.callbackUrl, json)).status).toBe(302);
});

it('when the token endpoint refuses the code (invalid_grant), then token_exchange_failed and the flow is spent: replays with other codes cost no token call', async () => {
  const { client, callbackUrl } = await atCallback(USERS.megan);
  const withCode = (code: string) => {
    const url = new URL(callbackUrl);
    url.searchParams.set('code', code);
    return url.href;
  };
  const tokenCalls = () => idp().requests.filter((r) => TOKEN_ENDPOINT.test(r.path)).length;
  const refused = await client.request(withCode('not-a-code'), json);
  expect([refused.status, refused.json()]).toMatchObject([502, { error: 'token_exchange_failed' }]);
  expect(tokenCalls()).toBe(1);
  for (const code of ['still-not-a-code', new URL(callbackUrl).searchParams.get('code')!]) {
    const replay = await client.request(withCode(code), json);
    expect([replay.status, replay.json()]).toMatchObject([400, { error: 'state_already_used' }]);
  }
  expect(tokenCalls()).toBe(1);
});

it('when the token endpoint answers 200 with garbage, then token_exchange_failed (never invalid_id_token)', async () => {
  const { client, callbackUrl } = await atCallback();
  idp().inject({
    method: 'POST',
    path: TOKEN_ENDPOINT,
    fault: { kind: 'respond', status: 200, headers: { 'content-type': 'text/html' }, body: '<p>' },
    times: 1,
  });
  const callback = await client.request(callbackUrl, json);
  expect(callback.status).toBe(502);
  expect(callback.json()).toMatchObject({ error: 'token_exchange_failed' });
});

it('when the token endpoint never answers, then token_exchange_failed within AUTH_IDP_TIMEOUT_MS, and sign-in works once it answers', async () => {
  const { client, callbackUrl } = await atCallback();
  idp().inject({ method: 'POST', path: TOKEN_ENDPOINT, fault: { kind: 'blackhole' } });
  const callback = await timed(() => client.request(callbackUrl, json));
  expect(callback.value.status).toBe(502);
  expect(callback.value.json()).toMatchObject({ error: 'token_exchange_failed' });
  // Before the bound it held the callback ~300 s.
  expect(callback.ms).toBeLessThan(IDP_TIMEOUT_MS + SLACK_MS);
  idp().clear();
  expect((await signIn(browser(), stack.appOrigin)).status).toBe(302);
});

it('when a user is in thousands of groups, then the session keeps none and says so (group overage), and sign-in succeeds', async () => {
  const client = browser();
  const callback = await signIn(client, stack.appOrigin, { user: MANY_GROUPS });
  expect(callback.status).toBe(302);
  expect((await me(client, stack.appOrigin)).json()).toMatchObject({
    authenticated: true,
    user: { preferred_username: MANY_GROUPS, groups: [], groupsOverage: true },
  });
});

it('when the claims cannot be stored at all, then claims_too_large (never storage_unavailable), and the flow is spent', async () => {
  const { client, callbackUrl } = await atCallback(HUGE_NAME);
  const callback = await client.request(callbackUrl, json);
  expect(callback.status).toBe(400);
  expect(callback.json()).toMatchObject({ error: 'claims_too_large' });
  const reload = await client.request(callbackUrl, json);
  expect(reload.json()).toMatchObject({ error: 'state_already_used' });
});
