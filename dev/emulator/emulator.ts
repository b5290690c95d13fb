import fs from 'node:fs/promises';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { CookieOptions } from 'oidc-provider';
import { closeServers, listenOnLoopback, portOf } from '../loopback';
import {
  ApiTokens,
  DEFAULT_ACCESS_TOKEN_SECONDS,
  replayRequest,
  type TokenRequestInfo,
  type EmulatorDaemon,
} from './apiTokens';
import { ensureDevCertificate } from './certificate';
import { CONTROL_PREFIX, handleControl } from './control';
import { entraLikeResponses } from './entraResponses';
import { asHttpsRequest, FrontDoorResponse, withoutForwardedHeaders } from './frontDoor';
import { handleGraph, sendJson, type GraphSwitches } from './graph';
import { InteractionHandler, sendHtml } from './interactions';
import { messagePage } from './pages';
import { providerConfiguration, signingKey } from './providerConfiguration';
import { mountOf, sendNotFound } from './tenants';
import { findUser, validateUsers, type TestUser } from './users';
import bundledUsers from './users.json';

/**
 * A local OpenID provider that looks like Microsoft Entra ID's v2.0 endpoints to the app
 * (issuer, paths, claims, client_info, logout), built on oidc-provider. Development only.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
 */

export type { TestUser } from './users';

export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

export interface EmulatorOptions {
  /** The https port (0 picks a free one). */
  port: number;
  /**
   * Also serve the provider on plain http at `http://localhost:<browserPort>`, the browser's
   * front door: discovery then sends browsers there for authorize and logout, so they never
   * meet the self-signed certificate. 0 picks a free port; undefined: https only.
   */
  browserPort?: number;
  tenantId: string;
  clients: EmulatorClient[];
  /** Defaults to dev/emulator/users.json. */
  users?: TestUser[];
  /** Daemons that get app-only tokens for the first client's API (client credentials). */
  daemons?: EmulatorDaemon[];
  /** Where the TLS certificate lives (see ensureDevCertificate). */
  certDir: string;
  /**
   * The https origin clients use, when it is not the emulator's own (a fault-injection proxy in
   * front of it, see testHooks.ts). Defaults to `https://localhost:<port>`.
   */
  publicOrigin?: string;
  /** Called with one line per request (method, path, status); never with queries or bodies. */
  log?: (line: string) => void;
  /** Lifetime of access tokens for APIs (default 1 hour); a few seconds make tests refresh. */
  accessTokenSeconds?: number;
}

export interface RunningEmulator {
  port: number;
  /** `https://localhost:<port>/<tenant>`, what MSAL calls the authority. */
  authority: string;
  /** `https://localhost:<port>/<tenant>/v2.0`, the `iss` of every token. */
  issuer: string;
  /** `http://localhost:<browserPort>`, the browser's front door (when `browserPort` was given). */
  browserOrigin?: string;
  close(): Promise<void>;
}

type OidcProviderModule = typeof import('oidc-provider');

export async function startEmulator(options: EmulatorOptions): Promise<RunningEmulator> {
  assertDevelopmentOnly();
  const { tenantId, clients } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(tenantId)) {
    throw new Error(`The tenant id must be a GUID or a domain name, got "${tenantId}".`);
  }
  if (clients.length === 0) throw new Error('The emulator needs at least one client.');
  const users = validateUsers(options.users ?? (bundledUsers as TestUser[]));
  const { Provider, interactionPolicy } = await withoutExpectedWarnings(
    (): Promise<OidcProviderModule> => import('oidc-provider'),
  );
  const { certPath, keyPath } = await ensureDevCertificate(options.certDir);
  const [cert, key] = await Promise.all([fs.readFile(certPath), fs.readFile(keyPath)]);

  // The issuer and discovery contain the ports, so listen first, build the provider afterwards.
  const notYet = (_req: IncomingMessage, res: ServerResponse) => void res.writeHead(503).end();
  let handle: (req: IncomingMessage, res: ServerResponse) => void = notYet;
  let handleFrontDoor: (req: IncomingMessage, res: FrontDoorResponse) => void = notYet;
  const servers: Server[] = await listenOnLoopback(options.port, () =>
    https.createServer({ cert, key }, (req, res) => handle(withoutForwardedHeaders(req), res)),
  );
  const port = portOf(servers);
  const origin = options.publicOrigin ?? `https://localhost:${port}`;
  const authority = `${origin}/${tenantId}`;
  const issuer = `${authority}/v2.0`;
  let browserOrigin: string | undefined;
  if (options.browserPort !== undefined) {
    const frontDoor = await listenOnLoopback(options.browserPort, () =>
      http.createServer({ ServerResponse: FrontDoorResponse }, (req, res) =>
        handleFrontDoor(withoutForwardedHeaders(req), res),
      ),
    ).catch(async (error: unknown) => {
      await closeServers(servers);
      throw error;
    });
    servers.push(...frontDoor);
    browserOrigin = `http://localhost:${portOf(frontDoor)}`;
  }

  const usersByOid = new Map(users.map((user) => [user.oid, user]));
  const tokenSigningKey = signingKey();
  const apiTokens = new ApiTokens({
    issuer,
    tenantId,
    signingKey: tokenSigningKey,
    users: usersByOid,
    accessTokenSeconds: options.accessTokenSeconds ?? DEFAULT_ACCESS_TOKEN_SECONDS,
    apiClientId: clients[0]?.clientId ?? '',
    daemons: options.daemons ?? [],
  });
  const graphSwitches: GraphSwitches = { outage: 'none', calls: {} };
  const tokenRequests = new WeakMap<IncomingMessage, TokenRequestInfo>();
  const sessionCookie: CookieOptions = {
    httpOnly: true,
    sameSite: 'lax',
    // The app runs on localhost too, and cookies ignore ports: keep ours out of its requests.
    path: `/${tenantId}/`,
  };

  const policy = interactionPolicy.base();
  // Entra accepts prompt=select_account; oidc-provider only knows prompts it was given.
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

  const configuration = providerConfiguration({
    tenantId,
    authority,
    clients,
    usersByOid,
    signingKey: tokenSigningKey,
    sessionCookie,
    policy,
  });

  const provider = await withoutExpectedWarnings(() => new Provider(issuer, configuration));
  provider.on('server_error', (_ctx, error) => {
    console.error(`[emulator] server_error: ${(error as Error).message}`);
  });
  // Trusts X-Forwarded-Proto/-Host, which only the front door sets (clients' are removed).
  provider.proxy = true;
  provider.use(
    entraLikeResponses({
      provider,
      tenantId,
      issuer,
      sessionCookie,
      browserOrigin,
      apiTokens,
      tokenRequests,
      usersByOid,
      signingKey: tokenSigningKey,
    }),
  );
  const providerCallback = provider.callback();

  const interactions = new InteractionHandler(provider, users, tenantId);
  handle = (req, res) => {
    const url = URL.parse(req.url ?? '/', origin);
    if (!url) return void res.writeHead(400).end();
    if (options.log) {
      const started = Date.now();
      res.once('finish', () => {
        options.log?.(`${req.method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms`);
      });
    }
    // The tenant's own endpoints, or the same under /organizations and /common (tenants.ts).
    const prefix = mountOf(url.pathname, tenantId) ?? `/${tenantId}`;
    if (url.pathname.startsWith('/v1.0/') || url.pathname.startsWith(CONTROL_PREFIX)) {
      const api = url.pathname.startsWith('/v1.0/')
        ? handleGraph(req, res, url, {
            tokens: apiTokens,
            users: usersByOid,
            switches: graphSwitches,
          })
        : handleControl(req, res, url, {
            tokens: apiTokens,
            graph: graphSwitches,
            findUser: (id) => findUser(users, id),
          });
      api.catch((error: Error) => {
        console.error(`[emulator] ${url.pathname} failed: ${error.message}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    const mounted = req as IncomingMessage & { originalUrl?: string };
    const rawUrl = req.url ?? '/';
    if (req.method === 'POST' && url.pathname === `${prefix}/oauth2/v2.0/token`) {
      // Resource scopes are the emulator's business, not oidc-provider's: see ApiTokens.
      apiTokens.prepareTokenRequest(req).then(
        ({ info, form }) => {
          if (info.grantType === 'client_credentials') {
            return void apiTokens.clientCredentials(new URLSearchParams(form), info).then(
              ({ status, body }) => sendJson(res, status, body),
              () => void res.writeHead(500).end(),
            );
          }
          const replay: IncomingMessage & { originalUrl?: string } = replayRequest(req, form);
          tokenRequests.set(replay, info);
          replay.originalUrl = rawUrl;
          replay.url = rawUrl.slice(prefix.length);
          providerCallback(replay, res);
        },
        () => void res.writeHead(413).end(),
      );
      return;
    }
    if (url.pathname === `${prefix}/v2.0/.well-known/openid-configuration`) {
      // Entra serves discovery under /v2.0 although the endpoints are not; oidc-provider derives
      // its mount path from originalUrl minus url, so present the request as if mounted at prefix.
      mounted.originalUrl = `${prefix}/.well-known/openid-configuration${url.search}`;
      mounted.url = `/.well-known/openid-configuration${url.search}`;
      return providerCallback(req, res);
    }
    const [, section, uid, cancel, ...rest] = url.pathname.slice(prefix.length).split('/');
    if (url.pathname.startsWith(`${prefix}/`) && section === 'login' && uid && rest.length === 0) {
      if (cancel !== undefined && cancel !== 'cancel') return sendNotFound(res, tenantId);
      interactions.handle(req, res, uid, cancel === 'cancel').catch((error: Error) => {
        console.error(`[emulator] interaction failed: ${error.message}`);
        if (!res.headersSent) sendHtml(res, 500, messagePage('Sign-in error', 'Unexpected error.'));
      });
      return;
    }
    if (rawUrl.startsWith(`${prefix}/`) && !url.pathname.includes('/.well-known/')) {
      mounted.originalUrl = rawUrl;
      mounted.url = rawUrl.slice(prefix.length);
      return providerCallback(req, res);
    }
    sendNotFound(res, tenantId);
  };
  if (browserOrigin) {
    const frontDoorOrigin = browserOrigin;
    handleFrontDoor = (req, res) => {
      // oidc-provider answers as on https (cookies, Secure flags, URLs); the browser stays here.
      asHttpsRequest(req, new URL(origin).host);
      res.rewriteUrls(origin, frontDoorOrigin);
      handle(req, res);
    };
  }

  return {
    port,
    authority,
    issuer,
    browserOrigin,
    close: () => closeServers(servers),
  };
}

/** The emulator issues tokens for any test user: it must never run in an Azure app. */
export function assertDevelopmentOnly(): void {
  if (process.env.WEBSITE_INSTANCE_ID) {
    throw new Error(
      'The Entra ID emulator is for local development only and refuses to start in Azure ' +
        '(WEBSITE_INSTANCE_ID is set). Use a real Entra ID tenant there.',
    );
  }
}

/**
 * oidc-provider warns that it prefers Node 22 (the project supports Node 20.19+, where the
 * emulator works) and that its in-memory storage loses data on restart (what an emulator
 * wants). Keep those two expected lines out of every dev and test run; others still show.
 */
async function withoutExpectedWarnings<T>(action: () => T | Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const text = String(args[0]);
    if (!text.includes('Unsupported runtime') && !text.includes('in-memory adapter')) warn(...args);
  };
  try {
    return await action();
  } finally {
    console.warn = warn;
  }
}
