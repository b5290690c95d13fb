import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { browserPool, me, openLogin, pickUser, signIn, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/** Expiry and storage outages, through the real parts (short flow TTL, Azurite on disk). */

const FLOW_TTL_SECONDS = 10;
let stack: Stack;
let dataDir: string;
const browsers = browserPool();
const browser = () => browsers.open();

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'azurite-'));
  stack = await startStack({
    settings: { AUTH_FLOW_TTL_SECONDS: String(FLOW_TTL_SECONDS) },
    azuriteLocation: dataDir,
  });
});
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitUntil(time: number): Promise<void> {
  // The one thing that cannot be awaited as a condition: wall-clock time passing the TTL.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
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

  const late = await client.request(callbackUrl, { headers: { accept: 'application/json' } });
  expect(late.status).toBe(400);
  expect(late.json()).toMatchObject({ error: 'state_expired' });

  const page = await client.request(callbackUrl);
  expect(page.body).toContain('/api/auth/login?returnTo=%2Flate');
  // The browser is still signed in at the provider, so the new flow completes without a page.
  const { final } = await client.follow(`${stack.appOrigin}/api/auth/login?returnTo=/api/auth/me`);
  expect(final.url).toBe(`${stack.appOrigin}/api/auth/me`);
  expect(final.json()).toMatchObject({ authenticated: true });
});

it('when storage stops, then 503 storage_unavailable and nothing half-written; when it is back, sign-in works again', async () => {
  const client = browser();
  await signIn(client, stack.appOrigin);

  await stack.azurite.stop();
  const login = await client.request(`${stack.appOrigin}/api/auth/login`, {
    headers: { accept: 'application/json' },
  });
  expect(login.status).toBe(503);
  expect(login.json()).toMatchObject({
    error: 'storage_unavailable',
    correlationId: expect.any(String),
  });
  expect(login.headers['set-cookie']).toBeUndefined(); // no flow cookie for a flow that was never stored
  const meDown = await me(client, stack.appOrigin);
  expect(meDown.status).toBe(503);
  expect(meDown.json()).toMatchObject({ error: 'storage_unavailable' });

  await stack.azurite.restart();
  expect((await me(client, stack.appOrigin)).status).toBe(200); // the session survived the outage
  const again = await signIn(browser(), stack.appOrigin, { returnTo: '/back' });
  expect(again.location).toBe(`${stack.appOrigin}/back`);
});
