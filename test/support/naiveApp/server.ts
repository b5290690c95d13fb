/**
 * ============================================================================================
 *  COUNTER-EXAMPLE. DO NOT COPY. Never deployed (the build bundles example/src/index.ts only).
 * ============================================================================================
 *
 * The classic broken setup this project exists to replace, kept only so the scale-out harness
 * can show the failure side by side with the fix: a web app that signs users in with the
 * authorization code flow (msal-node, like Microsoft's Express samples) and keeps everything
 * in PROCESS MEMORY, in one session per browser keyed by a cookie (what express-session's
 * default MemoryStore does):
 *
 *   session = { pending: { state, nonce, codeVerifier, returnTo }, user }
 *
 * Run several instances behind a load balancer without affinity and the callback lands on an
 * instance that never saw the login: "State mismatch". Open two tabs and the second sign-in
 * overwrites the first one's single `pending` slot: "State mismatch" again, on one instance.
 * And a session created on one instance is unknown to the next. Also deliberately missing:
 * ID token validation (msal-node only decodes it).
 *
 * Routes (same paths as the project, so one harness drives both): GET /api/auth/login,
 * GET /api/auth/callback, GET /api/hello. Env: PORT, NAIVE_AUTHORITY, NAIVE_CLIENT_ID,
 * NAIVE_CLIENT_SECRET, NAIVE_REDIRECT_URI (NODE_EXTRA_CA_CERTS for the emulator's TLS).
 * Prints `NAIVE_APP_READY <port>` once listening.
 */
import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface NaiveSession {
  pending?: { state: string; nonce: string; codeVerifier: string; returnTo: string };
  user?: { name?: string; preferred_username?: string };
}

const SESSION_COOKIE = 'naive.sid';
const SCOPES = ['openid', 'profile', 'email'];

/** THE BUG: per-process memory. Another instance has its own, empty Map. */
const sessions = new Map<string, NaiveSession>();

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const crypto = new CryptoProvider();

async function createClient(authority: string): Promise<ConfidentialClientApplication> {
  const discovery = await fetch(`${authority}/v2.0/.well-known/openid-configuration`);
  if (!discovery.ok) throw new Error(`discovery failed: HTTP ${discovery.status}`);
  return new ConfidentialClientApplication({
    auth: {
      clientId: env('NAIVE_CLIENT_ID'),
      clientSecret: env('NAIVE_CLIENT_SECRET'),
      authority,
      knownAuthorities: [new URL(authority).host],
      authorityMetadata: JSON.stringify(await discovery.json()),
    },
  });
}

async function handle(
  client: ConfidentialClientApplication,
  redirectUri: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const sid = readCookie(req.headers.cookie, SESSION_COOKIE);
  const session = sid ? sessions.get(sid) : undefined;

  if (url.pathname === '/api/auth/login') {
    // Like express-session: no session in this process's memory, so start a new one.
    let current = session;
    const headers: Record<string, string> = {};
    if (!current) {
      const newSid = randomBytes(16).toString('base64url');
      current = {};
      sessions.set(newSid, current);
      headers['Set-Cookie'] = `${SESSION_COOKIE}=${newSid}; Path=/; HttpOnly; SameSite=Lax`;
    }
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const returnTo = url.searchParams.get('returnTo') ?? '/';
    const pending = {
      state: crypto.createNewGuid(),
      nonce: crypto.createNewGuid(),
      codeVerifier: verifier,
      returnTo: returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/',
    };
    current.pending = pending; // THE OTHER BUG: one slot per browser; a second tab overwrites it.
    const location = await client.getAuthCodeUrl({
      scopes: SCOPES,
      redirectUri,
      responseMode: 'query',
      state: pending.state,
      nonce: pending.nonce,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
    });
    res.writeHead(302, { ...headers, Location: location, 'Cache-Control': 'no-store' }).end();
    return;
  }

  if (url.pathname === '/api/auth/callback') {
    const state = url.searchParams.get('state') ?? '';
    const code = url.searchParams.get('code') ?? '';
    if (!session) {
      return sendError(res, 400, 'state_mismatch', "no session in this instance's memory");
    }
    if (!session.pending || session.pending.state !== state) {
      return sendError(res, 400, 'state_mismatch', "the session holds another sign-in's state");
    }
    const { pending } = session;
    try {
      const result = await client.acquireTokenByCode(
        {
          code,
          scopes: SCOPES,
          redirectUri,
          codeVerifier: pending.codeVerifier,
          state,
          nonce: pending.nonce,
        },
        { code, state },
      );
      const claims = result.idTokenClaims as NaiveSession['user'];
      session.user = { name: claims?.name, preferred_username: claims?.preferred_username };
      delete session.pending;
    } catch (error) {
      return sendError(
        res,
        502,
        'token_exchange_failed',
        error instanceof Error ? error.message.split('\n')[0]! : String(error),
      );
    }
    res.writeHead(302, { Location: pending.returnTo, 'Cache-Control': 'no-store' }).end();
    return;
  }

  if (url.pathname === '/api/hello') {
    if (!session?.user) {
      return sendError(res, 401, 'not_signed_in', "no signed-in session in this instance's memory");
    }
    const name = session.user.name ?? session.user.preferred_username ?? 'there';
    return sendHtml(
      res,
      200,
      'Hello',
      `<h1 id="greeting">Hello, ${escapeHtml(name)}!</h1><p>(the naive counter-example app)</p>`,
    );
  }

  res.writeHead(404).end();
}

function sendError(res: http.ServerResponse, status: number, code: string, cause: string): void {
  const title = code === 'state_mismatch' ? 'State mismatch' : code.replace(/_/g, ' ');
  sendHtml(
    res,
    status,
    title,
    `<h1>${escapeHtml(title)}</h1>
<p id="cause">${escapeHtml(cause)}</p>
<p>Reason code <code id="reason-code">${escapeHtml(code)}</code> (the naive counter-example app)</p>`,
  );
}

function sendHtml(res: http.ServerResponse, status: number, title: string, body: string): void {
  res
    .writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' })
    .end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`,
    );
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function main(): Promise<void> {
  const client = await createClient(env('NAIVE_AUTHORITY'));
  const redirectUri = env('NAIVE_REDIRECT_URI');
  const server = http.createServer((req, res) => {
    handle(client, redirectUri, req, res).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    console.log(`NAIVE_APP_READY ${(server.address() as AddressInfo).port}`);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      server.close();
      server.closeAllConnections();
      process.exit(0);
    });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
