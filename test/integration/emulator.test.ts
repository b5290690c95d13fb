import {
  ConfidentialClientApplication,
  CryptoProvider,
  type AuthorizationUrlRequest,
  type AuthenticationResult,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRemoteJWKSet, customFetch, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { Agent, fetch as undiciFetch, request } from 'undici';
import { FrontDoorResponse } from '../../dev/emulator/frontDoor';
import { closeServers } from '../../dev/loopback';
import { PROJECT_ROOT } from '../../dev/processes';
import {
  BrowserClient,
  parseForms,
  pickEmulatorUser,
  type ClientRequestInit,
  type ClientResponse,
} from '../support/browserClient';
import { startEmulatorProcess, type EmulatorProcess } from '../support/emulatorProcess';

/**
 * The local Entra ID emulator, driven the way the app drives Entra ID: msal-node for the
 * protocol (over https, trusting the emulator's certificate), a cookie-keeping HTTP client for
 * the browser (over the emulator's http front door, trusting nothing extra), jose for the ID
 * token.
 */

// Nothing listens here: the browser stops before requesting it, as the app would receive it.
const REDIRECT_URI = 'http://localhost:7071/api/auth/callback';
const POST_LOGOUT_REDIRECT_URI = 'http://localhost:7071/';
const SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const MEGAN = 'megan.bowen@contoso.dev';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emulator: EmulatorProcess;
let ca: string;
let agent: Agent;

beforeAll(async () => {
  emulator = await startEmulatorProcess({
    redirectUris: [REDIRECT_URI],
    postLogoutRedirectUris: [POST_LOGOUT_REDIRECT_URI],
  });
  ca = fs.readFileSync(emulator.certPath, 'utf8');
  agent = new Agent({ connect: { ca } });
});

afterAll(async () => {
  await emulator?.stop();
  await agent?.close();
});

/** The front door's base for the tenant: `http://localhost:<port>/<tenant>`. */
function frontDoor(): string {
  return `${emulator.browserOrigin}/${emulator.tenantId}`;
}

/** A server-side request (as the app makes them) over https, trusting the emulator's CA. */
async function serverRequest(
  url: string,
  init: {
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    form?: Record<string, string>;
  } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(url, {
    method: init.method ?? (init.form ? 'POST' : 'GET'),
    headers: {
      ...init.headers,
      ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    dispatcher: agent,
  });
  return {
    status: response.statusCode,
    json: (await response.body.json()) as Record<string, unknown>,
  };
}

/** MSAL's HTTP through undici, trusting only the emulator's certificate (verification on). */
function emulatorNetworkClient(): INetworkModule {
  const send = async <T>(
    url: string,
    method: 'GET' | 'POST',
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const response = await request(url, {
      method,
      headers: options?.headers,
      body: options?.body,
      dispatcher: agent,
    });
    const text = await response.body.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: response.statusCode, headers, body: (text ? JSON.parse(text) : {}) as T };
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, 'GET', options),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}

function msalApp(): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      authority: emulator.authority,
      knownAuthorities: [`localhost:${emulator.port}`],
    },
    system: { networkClient: emulatorNetworkClient() },
  });
}

/** An authorize URL (a fresh PKCE challenge unless the test passes its own), with whatever else the test varies. */
async function authorizeUrl(
  app: ConfidentialClientApplication,
  extra: Partial<AuthorizationUrlRequest> = {},
): Promise<string> {
  return app.getAuthCodeUrl({
    scopes: SCOPES,
    redirectUri: REDIRECT_URI,
    responseMode: 'query',
    codeChallenge: (await new CryptoProvider().generatePkceCodes()).challenge,
    codeChallengeMethod: 'S256',
    ...extra,
  });
}

/**
 * The browser's side: no `ca`, so it trusts nothing beyond the system's certificates and cannot
 * reach the emulator's https port. It records every URL it requests.
 */
class RecordingBrowser extends BrowserClient {
  readonly requested: URL[] = [];

  override request(url: string, init?: ClientRequestInit): Promise<ClientResponse> {
    this.requested.push(new URL(url));
    return super.request(url, init);
  }
}

function newBrowser(): RecordingBrowser {
  return new RecordingBrowser();
}

function isRedirectUri(url: URL): boolean {
  return `${url.origin}${url.pathname}` === REDIRECT_URI;
}

function isPostLogoutUri(url: URL): boolean {
  return `${url.origin}${url.pathname}` === POST_LOGOUT_REDIRECT_URI;
}

async function verifyIdToken(idToken: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(
    new URL(`${emulator.authority}/discovery/v2.0/keys`),
    // jest's process has no NODE_EXTRA_CA_CERTS: fetch the keys through the trusting agent.
    {
      [customFetch]: (url: string, init: RequestInit) =>
        undiciFetch(url, {
          ...(init as object),
          dispatcher: agent,
        }) as unknown as Promise<Response>,
    },
  );
  const { payload, protectedHeader } = await jwtVerify(idToken, jwks, {
    issuer: emulator.issuer,
    audience: emulator.clientId,
    algorithms: ['RS256'],
  });
  expect(protectedHeader.kid).toEqual(expect.any(String));
  return payload;
}

interface SignIn {
  app: ConfidentialClientApplication;
  browser: RecordingBrowser;
  result: AuthenticationResult;
  nonce: string;
}

/** The whole authorization code + PKCE flow, as the app runs it, for one test user. */
async function signIn(username: string, browser = newBrowser()): Promise<SignIn> {
  const app = msalApp();
  const crypto = new CryptoProvider();
  const { verifier, challenge } = await crypto.generatePkceCodes();
  const state = crypto.createNewGuid();
  const nonce = crypto.createNewGuid();
  const authCodeUrl = await authorizeUrl(app, {
    codeChallenge: challenge,
    state,
    nonce,
    loginHint: username,
    domainHint: 'contoso.dev',
    prompt: 'select_account',
  });

  const loginPage = (await browser.follow(authCodeUrl)).final;
  expect(loginPage.status).toBe(200);
  const picked = await pickEmulatorUser(browser, loginPage, username);
  const callback = await followToCallback(browser, picked);
  const code = callback.searchParams.get('code') ?? '';

  const result = await app.acquireTokenByCode(
    { code, redirectUri: REDIRECT_URI, scopes: SCOPES, codeVerifier: verifier, state, nonce },
    { code, state: callback.searchParams.get('state') ?? '' },
  );
  return { app, browser, result, nonce };
}

/** The login form's answer starts a redirect chain that ends at the app's redirect URI. */
async function followToCallback(browser: BrowserClient, submitted: ClientResponse): Promise<URL> {
  const start = submitted.location;
  if (!start) {
    throw new Error(`Sign-in did not redirect (status ${submitted.status}): ${submitted.body}`);
  }
  if (isRedirectUri(new URL(start))) return new URL(start);
  const { final } = await browser.follow(start, {}, { stopAt: isRedirectUri });
  if (!final.location || !isRedirectUri(new URL(final.location))) {
    throw new Error(`Sign-in ended at ${final.url} (status ${final.status}): ${final.body}`);
  }
  return new URL(final.location);
}

function refreshTokenIn(app: ConfidentialClientApplication): string {
  const cache = JSON.parse(app.getTokenCache().serialize()) as {
    RefreshToken: Record<string, { secret: string }>;
  };
  const [entry] = Object.values(cache.RefreshToken);
  if (!entry) throw new Error('MSAL cached no refresh token');
  return entry.secret;
}

/** Runs `node -e script` and collects its stdout ('close' waits for the streams to drain). */
function runNode(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

describe('local Entra ID emulator', () => {
  test('when discovery is fetched, then it has Entra v2.0 shape, paths and RS256 keys', async () => {
    // Arrange
    const base = `https://localhost:${emulator.port}/${emulator.tenantId}`;
    const browserBase = frontDoor();
    const path = `/v2.0/.well-known/openid-configuration`;
    const browser = newBrowser();

    // Act
    const discovery = (await serverRequest(`${base}${path}`)).json;
    const jwks = (await serverRequest(String(discovery.jwks_uri))).json as {
      keys: Array<Record<string, unknown>>;
    };
    const viaFrontDoor = (await browser.request(`${browserBase}${path}`)).json();
    await browser.close();

    // Assert: the browser's endpoints on the http front door, the rest on https.
    expect(emulator.browserOrigin).toMatch(/^http:\/\/localhost:\d+$/);
    expect(emulator.issuer).toBe(`${base}/v2.0`);
    expect(discovery).toMatchObject({
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${browserBase}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${browserBase}/oauth2/v2.0/logout`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(viaFrontDoor).toEqual(discovery);
    expect(discovery.response_modes_supported).toContain('query');
    expect(discovery.response_types_supported).toContain('code');
    expect(discovery.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']),
    );
    expect(discovery.subject_types_supported).toEqual(['pairwise']);
    expect(discovery.claims_supported).toEqual(
      expect.arrayContaining(['sub', 'tid', 'oid', 'preferred_username', 'name', 'email', 'ver']),
    );
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
  });

  test('when another Node process trusts the certificate via NODE_EXTRA_CA_CERTS, then it fetches discovery with TLS verification on', async () => {
    // Arrange
    const url = `${emulator.issuer}/.well-known/openid-configuration`;
    const script = `fetch(${JSON.stringify(url)}).then((r) => r.json()).then((d) => console.log(d.issuer), (e) => { console.log(e.cause?.code ?? e.message); process.exit(3); })`;
    const {
      NODE_EXTRA_CA_CERTS: _ignored,
      NODE_TLS_REJECT_UNAUTHORIZED: _neither,
      ...env
    } = process.env;

    // Act
    const [trusting, untrusting] = await Promise.all([
      runNode(script, { ...env, NODE_EXTRA_CA_CERTS: emulator.certPath }),
      runNode(script, env),
    ]);

    // Assert
    expect(trusting).toEqual({ code: 0, output: `${emulator.issuer}\n` });
    expect(untrusting.code).toBe(3);
    expect(untrusting.output).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });

  test('when msal-node signs a user in with code + PKCE and the browser uses the http front door, then the ID token is Entra-like and verifies', async () => {
    // Arrange: MSAL's calls go over https with the CA; the browser has no CA at all.
    const browser = newBrowser();

    // Act
    const { result, nonce } = await signIn(MEGAN, browser);
    const claims = await verifyIdToken(result.idToken);
    const cookies = await browser.jar.getCookies(`${frontDoor()}/oauth2/v2.0/authorize`);
    await browser.close();

    // Assert: every request of the browser went to the front door, never to https.
    expect(browser.requested.length).toBeGreaterThanOrEqual(3);
    expect(new Set(browser.requested.map((url) => url.origin))).toEqual(
      new Set([emulator.browserOrigin]),
    );
    // oidc-provider took the front door's requests for https ones: its cookies are Secure.
    expect(cookies.find((cookie) => cookie.key === 'entra_emulator_session')).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
    });
    const megan = result.idTokenClaims as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: emulator.issuer,
      aud: emulator.clientId,
      tid: emulator.tenantId,
      preferred_username: MEGAN,
      name: 'Megan Bowen',
      email: MEGAN,
      ver: '2.0',
      nonce,
      roles: ['Reader'],
    });
    expect(claims.oid).toMatch(GUID);
    expect(claims.groups).toHaveLength(150);
    // Entra's sub is pairwise: stable for this user and app, and not the object id.
    expect(claims.sub).toEqual(expect.any(String));
    expect(claims.sub).not.toBe(claims.oid);
    expect(claims.nbf).toBeLessThanOrEqual(claims.iat ?? 0);
    expect(claims.exp).toBeGreaterThan(claims.iat ?? 0);
    expect(megan.oid).toBe(claims.oid);
    // MSAL builds `<uid>.<utid>` only from client_info; without it, it falls back to sub.
    expect(result.account?.homeAccountId).toBe(`${claims.oid}.${emulator.tenantId}`);
    expect(result.account?.tenantId).toBe(emulator.tenantId);
  });

  test('when a code is redeemed directly, then the response is Entra-like: client_info, refresh token, no iss', async () => {
    // Arrange: the code exchange by hand, to see the raw token response MSAL parses.
    const browser = newBrowser();
    const app = msalApp();
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const authCodeUrl = await authorizeUrl(app, { codeChallenge: challenge });
    const loginPage = (await browser.follow(authCodeUrl)).final;
    const picked = await pickEmulatorUser(browser, loginPage, 'adele.vance@contoso.dev');
    const callback = await followToCallback(browser, picked);

    // Act
    const response = await serverRequest(`${emulator.authority}/oauth2/v2.0/token`, {
      form: {
        grant_type: 'authorization_code',
        client_id: emulator.clientId,
        client_secret: emulator.clientSecret,
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        scope: SCOPES.join(' '),
      },
    });
    await browser.close();

    // Assert
    expect(callback.searchParams.has('iss')).toBe(false);
    expect(response.status).toBe(200);
    const body = response.json as Record<string, string>;
    const idToken = decodeJwt(body.id_token ?? '');
    const clientInfo = JSON.parse(Buffer.from(body.client_info ?? '', 'base64url').toString());
    expect(clientInfo).toEqual({ uid: idToken.oid, utid: emulator.tenantId });
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(idToken.roles).toEqual(['Admin']);
  });

  test('when the refresh token of a sign-in is redeemed, then msal-node gets fresh tokens', async () => {
    // Arrange
    const { app, browser, result } = await signIn(MEGAN);
    await browser.close();
    const refreshToken = refreshTokenIn(app);

    // Act
    const refreshed = await msalApp().acquireTokenByRefreshToken({ refreshToken, scopes: SCOPES });
    const silent = await app.acquireTokenSilent({
      account: result.account!,
      scopes: SCOPES,
      forceRefresh: true,
    });

    // Assert
    expect(refreshed?.idToken).toEqual(expect.any(String));
    const claims = await verifyIdToken(refreshed?.idToken ?? '');
    expect(claims.oid).toBe((result.idTokenClaims as JWTPayload).oid);
    expect(refreshed?.account?.homeAccountId).toBe(result.account?.homeAccountId);
    expect(silent.accessToken).not.toBe(result.accessToken);
    expect(silent.account?.homeAccountId).toBe(result.account?.homeAccountId);
  });

  test('when the app sends the user to logout with logout_hint on the front door, then the session ends and the user returns to the app', async () => {
    // Arrange
    const { browser, result } = await signIn(MEGAN);
    const logoutUrl = new URL(`${frontDoor()}/oauth2/v2.0/logout`);
    logoutUrl.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_REDIRECT_URI);
    logoutUrl.searchParams.set('client_id', emulator.clientId);
    logoutUrl.searchParams.set(
      'logout_hint',
      String((result.idTokenClaims as JWTPayload).login_hint),
    );
    logoutUrl.searchParams.set('state', 'after-logout');
    const app = msalApp();
    const authorize = await authorizeUrl(app, {});
    // While signed in, authorize goes straight back to the app without a login page.
    const before = await browser.follow(authorize, {}, { stopAt: isRedirectUri });

    // Act
    const { final: loggedOut, hops } = await browser.follow(
      logoutUrl.href,
      {},
      {
        stopAt: isPostLogoutUri,
      },
    );
    const after = await browser.follow(authorize, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    expect(new URL(before.final.location ?? '').searchParams.has('code')).toBe(true);
    expect(hops).toHaveLength(1);
    expect(loggedOut.status).toBe(303);
    const target = new URL(loggedOut.location ?? '');
    expect(`${target.origin}${target.pathname}`).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(target.searchParams.get('state')).toBe('after-logout');
    expect(after.final.status).toBe(200);
    expect(after.final.body).toContain('<title>Sign in – Entra ID emulator</title>');
    expect(new Set(browser.requested.map((url) => url.origin))).toEqual(
      new Set([emulator.browserOrigin]),
    );
  });

  test('when logout carries an id_token_hint, with or without an emulator session, then it redirects to the app', async () => {
    // Arrange
    const { browser, result } = await signIn('alex.wilber@contoso.dev');
    const logoutUrl = new URL(`${frontDoor()}/oauth2/v2.0/logout`);
    logoutUrl.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_REDIRECT_URI);
    logoutUrl.searchParams.set('id_token_hint', result.idToken);
    const stranger = newBrowser();

    // Act
    const signedIn = await browser.follow(logoutUrl.href, {}, { stopAt: isPostLogoutUri });
    const noSession = await stranger.follow(logoutUrl.href, {}, { stopAt: isPostLogoutUri });
    await Promise.all([browser.close(), stranger.close()]);

    // Assert
    for (const { final } of [signedIn, noSession]) {
      expect(final.status).toBe(303);
      expect(final.location).toBe(POST_LOGOUT_REDIRECT_URI);
    }
  });

  test('when a signed-in browser asks for select_account, then the user can switch accounts', async () => {
    // Arrange
    const { browser } = await signIn(MEGAN);

    // Act
    const { result } = await signIn('adele.vance@contoso.dev', browser);
    await browser.close();

    // Assert
    const claims = await verifyIdToken(result.idToken);
    expect(claims.preferred_username).toBe('adele.vance@contoso.dev');
    expect(claims.roles).toEqual(['Admin']);
  });

  test('when a signed-in user is asked for more scopes, then consent is given without a page', async () => {
    // Arrange: the session's grant covers openid and profile only.
    const browser = newBrowser();
    const narrow = await authorizeUrl(msalApp(), { scopes: ['openid', 'profile'] });
    const loginPage = (await browser.follow(narrow)).final;
    await followToCallback(browser, await pickEmulatorUser(browser, loginPage, MEGAN));
    const app = msalApp();
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const wide = await authorizeUrl(app, { codeChallenge: challenge });

    // Act
    const { final, hops } = await browser.follow(wide, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    expect(hops.every((hop) => hop.status === 302 || hop.status === 303)).toBe(true);
    const code = new URL(final.location ?? '').searchParams.get('code') ?? '';
    const result = await app.acquireTokenByCode({
      code,
      redirectUri: REDIRECT_URI,
      scopes: SCOPES,
      codeVerifier: verifier,
    });
    expect(result.idTokenClaims).toMatchObject({ email: MEGAN });
  });

  test('when the user cancels on the login page, then the app gets access_denied like from Entra', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = await authorizeUrl(msalApp(), { state: 'cancelled-flow' });
    const loginPage = (await browser.follow(authorize)).final;

    // Act
    const cancelled = await browser.submitForm(loginPage, (form) => form.text === 'Cancel');
    const callback = await followToCallback(browser, cancelled);
    await browser.close();

    // Assert
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toMatch(/^AADSTS65004/);
    expect(callback.searchParams.get('state')).toBe('cancelled-flow');
  });

  test('when login_hint names a test user, then the login page offers that user first', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = await authorizeUrl(msalApp(), { loginHint: 'ALEX.WILBER@contoso.dev' });

    // Act
    const { final: loginPage } = await browser.follow(authorize);
    await browser.close();

    // Assert
    const forms = parseForms(loginPage.body, loginPage.url);
    expect(forms.map((form) => form.fields.username)).toEqual([
      'alex.wilber@contoso.dev',
      'adele.vance@contoso.dev',
      'megan.bowen@contoso.dev',
      undefined, // Cancel
    ]);
    expect(loginPage.body).toMatch(/<button type="submit" autofocus>Alex Wilber<\/button>/);
  });

  test('when prompt=none finds no emulator session, then the app gets login_required', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = await authorizeUrl(msalApp(), { prompt: 'none', state: 'silent' });

    // Act
    const { final } = await browser.follow(authorize, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    const callback = new URL(final.location ?? '');
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('login_required');
    expect(callback.searchParams.get('state')).toBe('silent');
  });

  test('when an authorization request comes without PKCE, then the app gets invalid_request', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = new URL(`${frontDoor()}/oauth2/v2.0/authorize`);
    authorize.search = new URLSearchParams({
      client_id: emulator.clientId,
      response_type: 'code',
      response_mode: 'query',
      redirect_uri: REDIRECT_URI,
      scope: SCOPES.join(' '),
      state: 'no-pkce',
    }).toString();

    // Act
    const { final } = await browser.follow(authorize.href, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    const callback = new URL(final.location ?? '');
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  test('when a client sends its own X-Forwarded-Proto and X-Forwarded-Host, then neither listener believes them', async () => {
    // Arrange: headers that would make the provider think it is http://evil.example.
    const spoofed = {
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'evil.example',
      forwarded: 'proto=http;host=evil.example',
    };
    const discoveryPath = '/v2.0/.well-known/openid-configuration';
    const viaFrontDoor = await authorizeUrl(msalApp());
    const viaHttps = viaFrontDoor.replace(
      emulator.browserOrigin,
      new URL(emulator.authority).origin,
    );
    const browser = newBrowser();
    const trusting = new BrowserClient({ ca });

    /** Authorize with the spoofed headers, then pick a user: where does the provider resume? */
    const startAndPick = async (client: BrowserClient, authorize: string) => {
      const started = await client.request(authorize, { headers: spoofed });
      const loginPage = await client.request(started.location ?? '');
      return { started, picked: await pickEmulatorUser(client, loginPage, MEGAN) };
    };

    // Act
    const discoveries = [
      (await serverRequest(`${emulator.authority}${discoveryPath}`, { headers: spoofed })).json,
      (await browser.request(`${frontDoor()}${discoveryPath}`, { headers: spoofed })).json(),
    ];
    const frontDoorFlow = await startAndPick(browser, viaFrontDoor);
    const httpsFlow = await startAndPick(trusting, viaHttps);
    await Promise.all([browser.close(), trusting.close()]);

    // Assert
    for (const discovery of discoveries) {
      expect(discovery).toMatchObject({
        issuer: emulator.issuer,
        token_endpoint: `${emulator.authority}/oauth2/v2.0/token`,
        authorization_endpoint: `${frontDoor()}/oauth2/v2.0/authorize`,
      });
    }
    for (const [flow, base] of [
      [frontDoorFlow, frontDoor()],
      [httpsFlow, emulator.authority],
    ] as const) {
      expect(flow.started.status).toBe(303);
      // Secure as on https: the spoofed proto=http was not believed.
      expect(String(flow.started.headers['set-cookie'])).toMatch(/; secure/i);
      expect(flow.picked.status).toBe(303);
      expect(flow.picked.location).toMatch(new RegExp(`^${base}/oauth2/v2\\.0/authorize/`));
    }
    expect(browser.requested.every((url) => url.origin === emulator.browserOrigin)).toBe(true);
  });

  test('when WEBSITE_INSTANCE_ID is set, then the emulator refuses to start', async () => {
    // Arrange: a certificate directory that must not come into being.
    const certDir = path.join(os.tmpdir(), `emulator-refused-${process.pid}-${Date.now()}`);
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'dev/emulator/main.ts'], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        WEBSITE_INSTANCE_ID: 'abc123',
        EMULATOR_PORT: '0',
        EMULATOR_CERT_DIR: certDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    // Act: 'close' (unlike 'exit') waits for stdout and stderr to be drained.
    const exitCode = await new Promise<number | null>((resolve) => child.once('close', resolve));

    // Assert
    expect(exitCode).not.toBe(0);
    expect(output).toMatch(/development only/i);
    expect(output).toContain('WEBSITE_INSTANCE_ID');
    expect(output).not.toContain('EMULATOR_READY');
    expect(fs.existsSync(certDir)).toBe(false);
  });
});

describe("the emulator's front door responses", () => {
  const HTTPS = 'https://localhost:7443';
  const FRONT_DOOR = 'http://localhost:7444';
  const page = [
    `<form method="post" action="${HTTPS}/t/login/1">`,
    `<input type="hidden" name="iss" value="${HTTPS}/t/v2.0">`,
    `<a href='${HTTPS}/t/oauth2/v2.0/logout'>out</a> <a href="${HTTPS}0/other">other port</a>`,
    `<a href="http://localhost:7071/api/demo">app</a> text ${HTTPS}/t</form>`,
  ].join('\n');
  const routes: Record<string, (res: ServerResponse) => void> = {
    // As koa answers: progressive headers, Content-Length, the body in end().
    '/koa': (res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(page));
      res.end(page);
    },
    // As the login page is sent: writeHead with headers, body in chunks split inside a URL.
    '/chunks': (res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.write(page.slice(0, 40));
      res.write(Buffer.from(page.slice(40)));
      res.end();
    },
    '/redirect': (res) => {
      res.writeHead(303, {
        location: `${HTTPS}/t/oauth2/v2.0/authorize/1?next=${encodeURIComponent(HTTPS)}`,
        'set-cookie': 'a=1; path=/t/; secure; httponly',
      });
      res.end();
    },
    '/app-redirect': (res) => {
      res.statusCode = 303;
      res.setHeader('Location', `http://localhost:7071/api/auth/callback?iss=${HTTPS}`);
      res.end();
    },
    '/json': (res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token_endpoint: `${HTTPS}/t/oauth2/v2.0/token` }));
    },
  };
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    server = http.createServer({ ServerResponse: FrontDoorResponse }, (req, res) => {
      res.rewriteUrls(HTTPS, FRONT_DOOR);
      (routes[req.url ?? ''] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => closeServers([server]));

  const get = async (path: string) => {
    const response = await request(`${base}${path}`);
    return {
      status: response.statusCode,
      headers: response.headers,
      body: await response.body.text(),
    };
  };

  test.each(['/koa', '/chunks'])(
    'when an HTML page links to the https origin (%s), then its links and form actions point at the front door, other text stays',
    async (path) => {
      // Act
      const { status, headers, body } = await get(path);

      // Assert
      expect(status).toBe(200);
      expect(body).toBe(
        [
          `<form method="post" action="${FRONT_DOOR}/t/login/1">`,
          `<input type="hidden" name="iss" value="${HTTPS}/t/v2.0">`,
          `<a href='${FRONT_DOOR}/t/oauth2/v2.0/logout'>out</a> <a href="${HTTPS}0/other">other port</a>`,
          `<a href="http://localhost:7071/api/demo">app</a> text ${HTTPS}/t</form>`,
        ].join('\n'),
      );
      if (headers['content-length'] !== undefined) {
        expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body));
      }
    },
  );

  test('when a redirect points at the https origin, then Location points at the front door and Set-Cookie is unchanged', async () => {
    // Act
    const redirect = await get('/redirect');
    const toApp = await get('/app-redirect');
    const json = await get('/json');

    // Assert
    expect(redirect.headers.location).toBe(
      `${FRONT_DOOR}/t/oauth2/v2.0/authorize/1?next=${encodeURIComponent(HTTPS)}`,
    );
    expect(String(redirect.headers['set-cookie'])).toBe('a=1; path=/t/; secure; httponly');
    expect(toApp.headers.location).toBe(`http://localhost:7071/api/auth/callback?iss=${HTTPS}`);
    expect(JSON.parse(json.body)).toEqual({ token_endpoint: `${HTTPS}/t/oauth2/v2.0/token` });
  });
});
