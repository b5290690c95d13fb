import { DEV_TENANT_ID } from '../../dev/emulator/devRegistration';
import { authTable } from '../support/authTable';
import type { BrowserClient } from '../support/browserClient';
import { startRecordingProxy, type RecordingProxy } from '../support/recordingProxy';
import {
  browserPool,
  isCallback,
  me,
  openLogin,
  pickUser,
  signIn,
  USERS,
} from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/**
 * The log audit (issue 9): a whole run of sign-ins, me, logout and failing callbacks through
 * the real parts, with every secret that crossed the wire collected (from the browser side,
 * from a recording proxy on the token endpoint, from the flow records), then every line the
 * host and the emulator printed searched for each of them.
 */

let stack: Stack;
let proxy: RecordingProxy;
const browsers = browserPool();
/** Every cookie value any server set, as it crossed the wire (replaced ones included). */
const cookiesSet = new Set<string>();
const browser = () => {
  const client = browsers.open();
  const request = client.request.bind(client);
  client.request = async (url, init) => {
    const response = await request(url, init);
    for (const header of ([] as string[]).concat(response.headers['set-cookie'] ?? [])) {
      const value = header.split(';')[0]!.split('=').slice(1).join('=');
      if (value) cookiesSet.add(value);
    }
    return response;
  };
  return client;
};
const codes = new Set<string>();

beforeAll(async () => {
  proxy = await startRecordingProxy();
  stack = await startStack({
    settings: { AUTH_AUTHORITY: `https://localhost:${proxy.port}/${DEV_TENANT_ID}` },
  });
  proxy.setTarget(`https://localhost:${stack.emulator.port}`);
});
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
  await proxy?.close();
});

async function callbackOf(client: BrowserClient, query = ''): Promise<string> {
  const url = await pickUser(client, await openLogin(client, stack.appOrigin, query), USERS.adele);
  codes.add(new URL(url).searchParams.get('code')!);
  return url;
}

/** Every value of these names in the recorded form posts and JSON bodies. */
function recordedValues(names: string[]): string[] {
  const values: string[] = [];
  for (const body of proxy.bodies()) {
    for (const [name, value] of new URLSearchParams(body))
      if (names.includes(name)) values.push(value);
    try {
      const json = JSON.parse(body) as Record<string, unknown>;
      for (const name of names) if (typeof json[name] === 'string') values.push(json[name]);
    } catch {
      // not JSON
    }
  }
  return values;
}

it('when users sign in, use the app, sign out and fail in every way, then no code, token, verifier, cookie value or client secret is in any log line', async () => {
  // Sign-in, me, the protected function, logout.
  const alice = browser();
  expect((await signIn(alice, stack.appOrigin, { returnTo: '/api/hello' })).status).toBe(302);
  expect((await me(alice, stack.appOrigin)).status).toBe(200);
  expect((await alice.request(`${stack.appOrigin}/api/hello`)).status).toBe(200);
  // A second sign-in in the same browser (no login page: signed in at the provider) replaces
  // the first session.
  const { final: silent } = await alice.follow(
    `${stack.appOrigin}/api/auth/login`,
    {},
    {
      stopAt: isCallback,
    },
  );
  const second = silent.location!;
  codes.add(new URL(second).searchParams.get('code')!);
  expect((await alice.request(second)).status).toBe(302);
  // Replay while signed in (goes on), then after logout (state_already_used).
  expect((await alice.request(second)).status).toBe(302);
  const logout = await alice.request(`${stack.appOrigin}/api/auth/logout`, {
    method: 'POST',
    headers: { origin: stack.appOrigin },
  });
  expect(logout.status).toBe(302);
  expect((await alice.request(second)).status).toBe(400);

  // Failing callbacks: no cookie, another browser's state, a forged code, the user cancels.
  const bob = browser();
  const bobs = await callbackOf(bob);
  expect((await browser().request(bobs)).status).toBe(400); // missing_flow_cookie
  const mallory = browser();
  await openLogin(mallory, stack.appOrigin);
  expect((await mallory.request(bobs)).status).toBe(400); // unknown_state
  const forged = new URL(bobs);
  forged.searchParams.set('code', `${forged.searchParams.get('code')}x`);
  codes.add(forged.searchParams.get('code')!);
  expect((await bob.request(forged.href)).status).toBe(502); // token_exchange_failed
  // The refused code spent the flow: the real one is not redeemed after it (its code in no log).
  expect((await bob.request(bobs)).status).toBe(400); // state_already_used
  codes.add(new URL(bobs).searchParams.get('code')!);
  const dave = browser();
  expect((await dave.request(await callbackOf(dave))).status).toBe(302);
  const carol = browser();
  const cancelled = await carol.submitForm(
    await openLogin(carol, stack.appOrigin),
    (form) => form.text === 'Cancel',
  );
  const { final } = await carol.follow(cancelled.location!, {}, { stopAt: isCallback });
  expect((await carol.request(final.location!)).status).toBe(400); // idp_error

  // The secrets that crossed the wire.
  const flows: string[] = [];
  for await (const row of authTable(stack.azurite.connectionString).listEntities<{
    codeVerifier?: string;
    nonce?: string;
  }>()) {
    if (row.codeVerifier) flows.push(row.codeVerifier, row.nonce!);
  }
  const cookies = [...cookiesSet];
  const tokens = recordedValues(['access_token', 'id_token', 'refresh_token']);
  const sent = recordedValues(['code', 'code_verifier', 'client_secret', 'refresh_token']);
  const secrets = {
    codes: [...codes],
    verifiersAndNonces: flows,
    tokens,
    tokenSignatures: tokens.filter((t) => t.split('.').length === 3).map((t) => t.split('.')[2]!),
    sentToTokenEndpoint: sent,
    cookies,
    clientSecret: [stack.emulator.clientSecret],
  };
  // The audit is only as good as what it collected: every kind is really there.
  expect(secrets.codes.length).toBeGreaterThanOrEqual(3);
  expect(secrets.verifiersAndNonces.length).toBeGreaterThanOrEqual(8);
  expect(secrets.tokens.length).toBeGreaterThanOrEqual(6); // access, ID and refresh, twice or more
  expect(sent).toContain(stack.emulator.clientSecret);
  expect(secrets.cookies.length).toBeGreaterThanOrEqual(8); // flow and session cookies, app and emulator

  const logs = `${stack.hostOutput()}\n${stack.emulator.output()}`;
  expect(logs).toMatch(/auth failure token_exchange_failed/); // the logs are really captured
  const leaked = Object.entries(secrets).flatMap(([kind, values]) =>
    values
      .filter((v) => v.length >= 8 && logs.includes(v))
      .map((v) => `${kind}: ${v.slice(0, 6)}... (${v.length} chars)`),
  );
  expect(leaked).toEqual([]);
});
