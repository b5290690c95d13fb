import { AUTH_TABLE_NAME } from '../../src/adapters/tables/tableLayout';
import { browserPool, me, openLogin, pickUser, signIn, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';
import { authTable } from '../support/authTable';

/**
 * Storage that misbehaves, through the real parts: Azurite behind the fault proxy, the
 * emulator, the served functions. Also expiry (short flow TTL).
 */

const FLOW_TTL_SECONDS = 10;
const STORAGE_TIMEOUT_MS = 2500;
/** Generous slack over a configured bound: the machine is shared and noisy. */
const SLACK_MS = 5000;
let stack: Stack;
const browsers = browserPool();
const browser = () => browsers.open();
const json = { headers: { accept: 'application/json' } };

beforeAll(async () => {
  stack = await startStack({
    faultProxies: true,
    settings: {
      AUTH_FLOW_TTL_SECONDS: String(FLOW_TTL_SECONDS),
      AUTH_STORAGE_TIMEOUT_MS: String(STORAGE_TIMEOUT_MS),
    },
  });
});
afterEach(() => stack.faults?.storage.clear());
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});

const storage = () => stack.faults!.storage;

async function waitUntil(time: number): Promise<void> {
  // The one thing that cannot be awaited as a condition: wall-clock time passing the TTL.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await run();
  return { value, ms: Date.now() - started };
}

it('when the flow outlives its TTL, then state_expired (not unknown_state) and a fresh sign-in works', async () => {
  const client = browser();
  const started = Date.now();
  const callbackUrl = await pickUser(
    client,
    await openLogin(client, stack.appOrigin, '?returnTo=/late'),
    USERS.adele,
  );
  await waitUntil(started + (FLOW_TTL_SECONDS + 1) * 1000);

  const late = await client.request(callbackUrl, json);
  expect(late.status).toBe(400);
  expect(late.json()).toMatchObject({ error: 'state_expired' });

  const page = await client.request(callbackUrl);
  expect(page.body).toContain('/api/auth/login?returnTo=%2Flate');
  // The browser is still signed in at the provider, so the new flow completes without a page.
  const { final } = await client.follow(`${stack.appOrigin}/api/auth/login?returnTo=/api/auth/me`);
  expect(final.url).toBe(`${stack.appOrigin}/api/auth/me`);
  expect(final.json()).toMatchObject({ authenticated: true });
});

it('when storage accepts connections but never answers, then storage_unavailable within AUTH_STORAGE_TIMEOUT_MS, and sign-in works once it answers again', async () => {
  const client = browser();
  await signIn(client, stack.appOrigin);
  const pending = browser(); // a sign-in waiting at its callback when the outage starts
  const callbackUrl = await pickUser(
    pending,
    await openLogin(pending, stack.appOrigin),
    USERS.alex,
  );

  storage().inject({ fault: { kind: 'blackhole' } });
  const login = await timed(() => client.request(`${stack.appOrigin}/api/auth/login`, json));
  expect(login.value.status).toBe(503);
  expect(login.value.json()).toMatchObject({
    error: 'storage_unavailable',
    correlationId: expect.any(String),
  });
  expect(login.value.headers['set-cookie']).toBeUndefined(); // no cookie for a flow never stored
  // Before the bound, login hung ~150 s and the callback ~30 s.
  expect(login.ms).toBeLessThan(STORAGE_TIMEOUT_MS + SLACK_MS);
  const callback = await timed(() => pending.request(callbackUrl, json));
  expect(callback.value.status).toBe(503);
  expect(callback.value.json()).toMatchObject({ error: 'storage_unavailable' });
  expect(callback.ms).toBeLessThan(STORAGE_TIMEOUT_MS + SLACK_MS);
  const meDown = await timed(() => me(client, stack.appOrigin));
  expect(meDown.value.status).toBe(503);
  expect(meDown.ms).toBeLessThan(STORAGE_TIMEOUT_MS + SLACK_MS);

  storage().clear();
  expect((await me(client, stack.appOrigin)).status).toBe(200); // the session survived the outage
  // The callback that failed during the outage did not spend its flow.
  expect((await pending.request(callbackUrl)).status).toBe(302);
  const again = await signIn(browser(), stack.appOrigin, { returnTo: '/back' });
  expect(again.location).toBe(`${stack.appOrigin}/back`);
});

it('when storage resets every connection, then 503 storage_unavailable and nothing half-written; when it is back, sign-in works again', async () => {
  const client = browser();
  await signIn(client, stack.appOrigin);

  storage().inject({ fault: { kind: 'reset' } });
  const login = await client.request(`${stack.appOrigin}/api/auth/login`, json);
  expect(login.status).toBe(503);
  expect(login.json()).toMatchObject({ error: 'storage_unavailable' });
  expect(login.headers['set-cookie']).toBeUndefined();
  expect((await me(client, stack.appOrigin)).status).toBe(503);

  storage().clear();
  expect((await me(client, stack.appOrigin)).status).toBe(200);
  expect((await signIn(browser(), stack.appOrigin)).status).toBe(302);
});

it('when the answer to the transaction that consumes the flow is lost and the SDK retries into a 412, then the sign-in still succeeds', async () => {
  const client = browser();
  const callbackUrl = await pickUser(
    client,
    await openLogin(client, stack.appOrigin, '?returnTo=/kept'),
    USERS.megan,
  );
  storage().inject({
    method: 'POST',
    path: /\/\$batch/,
    fault: { kind: 'loseResponse' },
    times: 1,
  });

  const callback = await client.request(callbackUrl, json);
  expect(storage().requests.filter((r) => r.fault === 'loseResponse')).toHaveLength(1);
  expect(callback.status).toBe(302);
  expect(callback.location).toBe(`${stack.appOrigin}/kept`);
  expect((await me(client, stack.appOrigin)).json()).toMatchObject({ authenticated: true });
});

it('when the answer to the write of a new flow is lost and the SDK retries into a 409, then the login still succeeds', async () => {
  const client = browser();
  storage().inject({
    method: 'POST',
    path: new RegExp(`/${AUTH_TABLE_NAME}(\\?|$)`),
    fault: { kind: 'loseResponse' },
    times: 1,
  });
  const response = await signIn(client, stack.appOrigin, { returnTo: '/flow-kept' });
  expect(storage().requests.filter((r) => r.fault === 'loseResponse')).toHaveLength(1);
  expect(response.location).toBe(`${stack.appOrigin}/flow-kept`);
});

it('when the AuthState table is deleted on a running storage, then the next sign-in recreates it and succeeds without a restart', async () => {
  const direct = authTable(stack.azurite.connectionString);
  await signIn(browser(), stack.appOrigin); // the host has created the table by now
  await direct.deleteTable();

  const login = await browser().request(`${stack.appOrigin}/api/auth/login`, json);
  expect(login.status).toBe(302);
  const again = await signIn(browser(), stack.appOrigin, { returnTo: '/after-delete' });
  expect(again.location).toBe(`${stack.appOrigin}/after-delete`);
});
