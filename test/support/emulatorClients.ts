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
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { Agent, fetch as undiciFetch, request } from 'undici';
import {
  BrowserClient,
  pickEmulatorUser,
  type ClientRequestInit,
  type ClientResponse,
} from './browserClient';
import { startEmulatorProcess, type EmulatorProcess } from './emulatorProcess';

/**
 * Shared by the emulator's integration tests (test/integration/emulator*.test.ts): the app's
 * side (msal-node over https, trusting the emulator's certificate), a recording browser (over
 * the http front door, trusting nothing extra), and jose for the ID token.
 */

// Nothing listens here: the browser stops before requesting it, as the app would receive it.
export const REDIRECT_URI = 'http://localhost:7071/api/auth/callback';
export const POST_LOGOUT_REDIRECT_URI = 'http://localhost:7071/';
export const SCOPES = ['openid', 'profile', 'email', 'offline_access'];
export const MEGAN = 'megan.bowen@contoso.dev';
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export let emulator: EmulatorProcess;
export let ca: string;
export let agent: Agent;

/** Starts the emulator for the test file (beforeAll) and stops it afterwards. */
export function useEmulator(): void {
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
}

/** The front door's base for the tenant: `http://localhost:<port>/<tenant>`. */
export function frontDoor(): string {
  return `${emulator.browserOrigin}/${emulator.tenantId}`;
}

/** A server-side request (as the app makes them) over https, trusting the emulator's CA. */
export async function serverRequest(
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
export function emulatorNetworkClient(): INetworkModule {
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

export function msalApp(): ConfidentialClientApplication {
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
export async function authorizeUrl(
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
export class RecordingBrowser extends BrowserClient {
  readonly requested: URL[] = [];

  override request(url: string, init?: ClientRequestInit): Promise<ClientResponse> {
    this.requested.push(new URL(url));
    return super.request(url, init);
  }
}

export function newBrowser(): RecordingBrowser {
  return new RecordingBrowser();
}

export function isRedirectUri(url: URL): boolean {
  return `${url.origin}${url.pathname}` === REDIRECT_URI;
}

export function isPostLogoutUri(url: URL): boolean {
  return `${url.origin}${url.pathname}` === POST_LOGOUT_REDIRECT_URI;
}

export async function verifyIdToken(idToken: string): Promise<JWTPayload> {
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

export interface SignIn {
  app: ConfidentialClientApplication;
  browser: RecordingBrowser;
  result: AuthenticationResult;
  nonce: string;
}

/** The whole authorization code + PKCE flow, as the app runs it, for one test user. */
export async function signIn(username: string, browser = newBrowser()): Promise<SignIn> {
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
export async function followToCallback(
  browser: BrowserClient,
  submitted: ClientResponse,
): Promise<URL> {
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

export function refreshTokenIn(app: ConfidentialClientApplication): string {
  const cache = JSON.parse(app.getTokenCache().serialize()) as {
    RefreshToken: Record<string, { secret: string }>;
  };
  const [entry] = Object.values(cache.RefreshToken);
  if (!entry) throw new Error('MSAL cached no refresh token');
  return entry.secret;
}

/** Runs `node -e script` and collects its stdout ('close' waits for the streams to drain). */
export function runNode(
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}
