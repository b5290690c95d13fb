import type { BrowserClient } from '../support/browserClient';
import { authTable, countRows } from '../support/authTable';
import { requestBytes, sendRaw } from '../support/rawHttp';
import { browserPool, openLogin, pickUser, USERS } from '../support/signInSteps';
import { startStack, type Stack } from '../support/stack';

/**
 * Issue 9, rows 9, 10 and 12, through the real parts: a provider that echoes secrets, planted
 * flow cookies, and hostile Host / X-Forwarded-Proto headers at the local host.
 */

let stack: Stack;
let port: number;
const browsers = browserPool();
const browser = () => browsers.open();

beforeAll(async () => {
  stack = await startStack();
  port = stack.instancePorts[0]!;
});
afterAll(async () => {
  await browsers.closeAll();
  await stack?.stop();
});

async function cookieValues(client: BrowserClient): Promise<Map<string, string>> {
  const cookies = await client.jar.getCookies(stack.appOrigin);
  return new Map(cookies.map((c) => [c.key, c.value]));
}

describe('a provider that echoes secrets in its error (row 9)', () => {
  it('when the error and its description carry the code, verifier, client secret, a token and the cookie, then neither the log nor the page shows any of them', async () => {
    const client = browser();
    const callbackUrl = await pickUser(
      client,
      await openLogin(client, stack.appOrigin, '?returnTo=/hostile'),
      USERS.adele,
    );
    const params = new URL(callbackUrl).searchParams;
    const [partition, flowId] = params.get('state')!.split('.');
    const table = authTable(stack.azurite.connectionString);
    const flow = await table.getEntity<{ codeVerifier: string; nonce: string }>(
      partition!,
      `f.${flowId}`,
    );
    const flowCookie = [...(await cookieValues(client)).values()][0]!;
    const secrets = {
      code: params.get('code')!,
      verifier: flow.codeVerifier,
      nonce: flow.nonce,
      clientSecret: stack.emulator.clientSecret,
      flowCookie,
      jwt: 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJhZGVsZSIsIm5vbmNlIjoieCJ9.c2lnbmF0dXJlLWJ5dGVz',
    };
    const description = [
      `AADSTS7000215: Invalid client secret provided. You sent client_secret=${secrets.clientSecret}`,
      `code=${secrets.code}&code_verifier=${secrets.verifier}`,
      `echo: ${secrets.verifier} ${secrets.jwt} cookie ${secrets.flowCookie} nonce ${secrets.nonce}`,
      'Trace ID: 0c8e6cd1-3b7a-4d8e-9f00-5a1b2c3d4e5f',
    ].join('\r\n');
    const hostile = new URL('/api/auth/callback', stack.appOrigin);
    hostile.search = new URLSearchParams({
      state: params.get('state')!,
      error: 'invalid_client',
      error_description: description,
    }).toString();
    const logBefore = stack.hostOutput().length;

    const page = await client.request(hostile.href);
    // The error code itself may be the secret too (its characters allow a verifier).
    const errorIsSecret = await client.request(
      `${stack.appOrigin}/api/auth/callback?state=${params.get('state')}&error=${secrets.verifier}`,
      { headers: { accept: 'application/json' } },
    );

    expect(page.status).toBe(400);
    expect(page.body).toContain('data-reason="idp_error"');
    expect(page.body).toContain('AADSTS7000215');
    expect(errorIsSecret.json()).toMatchObject({ error: 'idp_error' });
    const log = stack.hostOutput().slice(logBefore);
    expect(log).toMatch(/auth failure idp_error .*invalid_client \(AADSTS7000215\)/);
    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, inLog: log.includes(value) }).toEqual({ name, inLog: false });
      expect({ name, onPage: page.body.includes(value) }).toEqual({ name, onPage: false });
      expect({ name, inJson: errorIsSecret.body.includes(value) }).toEqual({
        name,
        inJson: false,
      });
    }
    // One log line per failure: the description's line breaks cannot forge more lines.
    expect(log).not.toMatch(/^Trace ID/m);
  });
});

describe('planted flow cookies (row 10)', () => {
  const farFuture = Math.floor(Date.now() / 1000 + 10 * 365 * 86400).toString(36);
  const plant = (client: BrowserClient, name: string, value: string) =>
    client.jar.setCookie(`__Host-authflow-${name}=${value}; Path=/; Secure`, stack.appOrigin);

  it('when seven cookies with far-future issue times fill the jar, then the next login evicts them, not the real tab, and both tabs sign in', async () => {
    const client = browser();
    const firstTab = await openLogin(client, stack.appOrigin, '?returnTo=/first');
    const realName = [...(await cookieValues(client)).keys()].find((n) =>
      n.startsWith('__Host-authflow-'),
    )!;
    for (let i = 0; i < 7; i++) {
      await plant(client, `planted${i}abcd`, `${farFuture}.${'A'.repeat(21)}${i}`);
    }
    await plant(client, 'garbage', 'not-a-flow-cookie');

    const { hops } = await client.follow(
      `${stack.appOrigin}/api/auth/login?returnTo=/second`,
      {},
      { stopAt: (url) => url.origin !== stack.appOrigin },
    );
    const cleared = ([] as string[])
      .concat(hops[0]!.headers['set-cookie'] ?? [])
      .filter((c) => /Max-Age=0/.test(c))
      .map((c) => c.split('=')[0]);
    expect(cleared.sort()).toEqual(
      [
        ...Array.from({ length: 7 }, (_, i) => `__Host-authflow-planted${i}abcd`),
        '__Host-authflow-garbage',
      ].sort(),
    );
    expect((await cookieValues(client)).has(realName)).toBe(true);

    const first = await client.request(await pickUser(client, firstTab, USERS.adele));
    expect([first.status, first.location]).toEqual([302, `${stack.appOrigin}/first`]);
  });
  it('when a planted flow cookie has a name no Set-Cookie can carry, then login still works and writes one record', async () => {
    const table = authTable(stack.azurite.connectionString);
    const rows = () => countRows(table);
    const before = await rows();
    const response = await sendRaw(
      port,
      requestBytes({
        method: 'GET',
        target: '/api/auth/login',
        headers: [
          ['host', `localhost:${port}`],
          ['cookie', '__Host-authflow-a b=1; __Host-authflow-\u00e9=2; __Host-authflow-ok=3'],
        ],
      }),
    );
    expect(response.status).toBe(302);
    expect(response.headers['set-cookie']).toMatch(/__Host-authflow-ok=; Max-Age=0/);
    expect(await rows()).toBe(before + 1);
  });
});

describe('hostile Host and X-Forwarded-Proto at the local host (row 12)', () => {
  it.each([
    ['userinfo', 'u@localhost', '/api/auth/login'],
    ['user and password', 'u:p@localhost', '/api/demo'],
    ['a space', 'local host', '/api/auth/me'],
  ])(
    'when the Host header has %s, then 400, not 500, and the host keeps serving',
    async (_label, host, path) => {
      const response = await sendRaw(
        port,
        requestBytes({ method: 'GET', target: path, headers: [['host', `${host}:${port}`]] }),
      );
      expect(response.status).toBe(400);
      const demo = await sendRaw(
        port,
        requestBytes({
          method: 'GET',
          target: '/api/demo',
          headers: [['host', `localhost:${port}`]],
        }),
      );
      expect(demo.status).toBe(200);
    },
  );

  it('when the request target is an absolute URL with userinfo, then 400', async () => {
    const response = await sendRaw(
      port,
      requestBytes({
        method: 'GET',
        target: `http://u@localhost:${port}/api/auth/login`,
        headers: [['host', `localhost:${port}`]],
      }),
    );
    expect(response.status).toBe(400);
  });

  it('when X-Forwarded-Proto says https but the redirect URI is http, then the misconfigured page, not a redirect to itself', async () => {
    const client = browser();
    const headers = { 'x-forwarded-proto': 'https' };
    const page = await client.request(`${stack.appOrigin}/api/auth/login?returnTo=/x`, { headers });
    expect(page.status).toBe(500);
    expect(page.body).toContain('data-reason="misconfigured"');
    expect(page.headers['set-cookie']).toBeUndefined();
    const json = await client.request(`${stack.appOrigin}/api/auth/login`, {
      headers: { ...headers, accept: 'application/json' },
    });
    expect(json.json()).toMatchObject({ error: 'misconfigured' });
    expect(stack.hostOutput()).toMatch(/auth failure misconfigured .*AUTH_REDIRECT_URI/);
    // Without the header the same login works.
    await openLogin(client, stack.appOrigin);
  });
});
