import { createHash, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import fs from 'node:fs/promises';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type {
  Configuration,
  CookieOptions,
  Interaction,
  KoaContext,
  Middleware,
  Provider,
} from 'oidc-provider';
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
import { asHttpsRequest, FrontDoorResponse, withoutForwardedHeaders } from './frontDoor';
import { handleGraph, sendJson, type GraphSwitches } from './graph';
import { loginPage, messagePage, type LoginHint } from './pages';
import bundledUsers from './users.json';

/**
 * A local OpenID provider that looks like Microsoft Entra ID's v2.0 endpoints to the app
 * (issuer, paths, claims, client_info, logout), built on oidc-provider. Development only.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc
 */

export interface TestUser {
  oid: string;
  preferred_username: string;
  name: string;
  email: string;
  roles: string[];
  groups: string[];
}

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

/** Entra's answer when the user cancels sign-in, so apps can exercise their idp_error path. */
const USER_CANCELLED = {
  error: 'access_denied',
  error_description: 'AADSTS65004: User declined to consent to access the app.',
};
const MAX_FORM_BYTES = 16 * 1024;
const SECONDS_PER_DAY = 24 * 60 * 60;

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

  const configuration: Configuration = {
    clients: clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      // MSAL sends the secret in the body.
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
      // Entra's `sub` is pairwise (per user and app), unlike `oid`.
      subject_type: 'pairwise',
      // Needed by oidc-provider for pairwise clients whose redirect URIs span hosts; never fetched.
      sector_identifier_uri: `${authority}/sector/${encodeURIComponent(client.clientId)}`,
    })),
    sectorIdentifierUriValidate: () => false,
    pairwiseIdentifier: (_ctx: KoaContext, accountId: string, client: { clientId: string }) =>
      createHash('sha256')
        .update(`${tenantId}\n${client.clientId}\n${accountId}`)
        .digest('base64url'),
    findAccount: (_ctx, id) => {
      const user = usersByOid.get(id);
      if (!user) return undefined;
      return {
        accountId: user.oid,
        claims: async (use: string) => entraClaims(user, tenantId, use),
      };
    },
    // Entra decides by scope which claims go into the ID token; profile and email included.
    conformIdTokenClaims: false,
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: {
      openid: [
        'sub',
        'tid',
        'ver',
        'nbf',
        'roles',
        'groups',
        'login_hint',
        '_claim_names',
        '_claim_sources',
      ],
      profile: ['name', 'preferred_username', 'oid'],
      email: ['email'],
    },
    subjectTypes: ['pairwise'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
    jwks: { keys: [tokenSigningKey] },
    cookies: {
      names: {
        session: 'entra_emulator_session',
        interaction: 'entra_emulator_interaction',
        resume: 'entra_emulator_resume',
      },
      long: sessionCookie,
      short: { httpOnly: true, sameSite: 'lax' },
    },
    routes: {
      authorization: '/oauth2/v2.0/authorize',
      token: '/oauth2/v2.0/token',
      jwks: '/discovery/v2.0/keys',
      end_session: '/oauth2/v2.0/logout',
      userinfo: '/oidc/userinfo',
    },
    interactions: {
      policy,
      url: (_ctx: KoaContext, interaction: Interaction) => `/${tenantId}/login/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Never shown: entraLikeLogout (below) ends the session and redirects straight away.
        logoutSource: async (ctx: KoaContext) => {
          ctx.body = '';
        },
        postLogoutSuccessSource: async (ctx: KoaContext) => {
          ctx.type = 'html';
          ctx.body = messagePage('Signed out', 'You signed out of the Entra ID emulator.');
        },
      },
    },
    // Entra's refresh tokens outlive the browser session and are issued whenever
    // offline_access is asked for (MSAL always asks).
    expiresWithSession: async () => false,
    issueRefreshToken: async (
      _ctx: KoaContext,
      client: { grantTypeAllowed(type: string): boolean },
      code: { scope?: string; scopes: Set<string> },
    ) => {
      if (!client.grantTypeAllowed('refresh_token') || !code.scopes.has('openid')) return false;
      // oidc-provider drops offline_access from the authorization request unless prompt=consent;
      // without it in the refresh token's scope, MSAL's refresh fails with invalid_scope.
      if (!code.scopes.has('offline_access')) code.scope = `${code.scope} offline_access`;
      return true;
    },
    // Entra keeps a used refresh token valid (it hands out a new one too); single-use rotation
    // would make oidc-provider revoke the whole grant when MSAL's cache reuses an older one.
    rotateRefreshToken: false,
    ttl: {
      AccessToken: 60 * 60,
      AuthorizationCode: 10 * 60,
      IdToken: 60 * 60,
      RefreshToken: 14 * SECONDS_PER_DAY,
      Interaction: 60 * 60,
      Session: SECONDS_PER_DAY,
      Grant: 14 * SECONDS_PER_DAY,
    },
    clientBasedCORS: () => false,
    renderError: async (ctx: KoaContext, out: { error?: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = messagePage(
        'Sign-in error',
        `${out.error ?? 'server_error'}: ${out.error_description ?? 'unexpected error'}`,
      );
    },
  };

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
    const prefix = `/${tenantId}`;
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
      apiTokens.prepareTokenRequest(req, clients[0]?.clientId ?? '').then(
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

function validateUsers(users: TestUser[]): TestUser[] {
  const seen = new Set<string>();
  for (const user of users) {
    for (const field of ['oid', 'preferred_username', 'name', 'email'] as const) {
      if (typeof user[field] !== 'string' || !user[field]) {
        throw new Error(`Emulator user ${JSON.stringify(user.name)} has no ${field}.`);
      }
    }
    if (!Array.isArray(user.roles) || !Array.isArray(user.groups)) {
      throw new Error(`Emulator user ${user.name} needs roles and groups arrays.`);
    }
    for (const key of [user.oid, user.preferred_username.toLowerCase()]) {
      if (seen.has(key)) throw new Error(`Emulator users repeat ${key}.`);
      seen.add(key);
    }
  }
  return users;
}

/**
 * The claims Entra puts in a v2.0 ID token, filtered by scope through the `claims` config.
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
 */
function entraClaims(user: TestUser, tenantId: string, use: string): Record<string, unknown> {
  return {
    sub: user.oid,
    oid: user.oid,
    tid: tenantId,
    ver: '2.0',
    name: user.name,
    preferred_username: user.preferred_username,
    email: user.email,
    // Entra leaves these out rather than sending empty arrays.
    ...(user.roles.length > 0 ? { roles: user.roles } : {}),
    ...groupsClaims(user, tenantId),
    // Entra's optional login_hint claim: an opaque value to send back as logout_hint/login_hint.
    login_hint: loginHintFor(user, tenantId),
    // oidc-provider sets iat and exp but not nbf, which Entra always sends.
    ...(use === 'id_token' ? { nbf: Math.floor(Date.now() / 1000) } : {}),
  };
}

/**
 * Entra's groups claim, or past 200 groups (a JWT's limit) its overage marker instead: no
 * `groups`, but `_claim_names` pointing at a `_claim_sources` entry (an old Graph URL).
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference#groups-overage-claim
 */
export const TOKEN_GROUPS_LIMIT = 200;
function groupsClaims(user: TestUser, tenantId: string): Record<string, unknown> {
  if (user.groups.length === 0) return {};
  if (user.groups.length <= TOKEN_GROUPS_LIMIT) return { groups: user.groups };
  return {
    _claim_names: { groups: 'src1' },
    _claim_sources: {
      src1: {
        endpoint: `https://graph.windows.net/${tenantId}/users/${user.oid}/getMemberObjects`,
      },
    },
  };
}

function loginHintFor(user: TestUser, tenantId: string): string {
  return Buffer.from(JSON.stringify({ oid: user.oid, tid: tenantId })).toString('base64url');
}

/** Entra's token responses carry client_info; MSAL builds the home account id from it. */
function clientInfoFor(oid: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: oid, utid: tenantId })).toString('base64url');
}

/** A fresh RS256 signing key per start, with an RFC 7638 thumbprint as kid. */
function signingKey(): JsonWebKey & { kid: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { ...jwk, kid: thumbprint, alg: 'RS256', use: 'sig' };
}

/**
 * Reshapes oidc-provider's answers where Entra differs: the discovery document, the keys'
 * `issuer`, `client_info` in token responses, no `iss` in authorization responses, and
 * sign-out without a confirmation page.
 */
function entraLikeResponses(context: {
  provider: Provider;
  tenantId: string;
  issuer: string;
  sessionCookie: CookieOptions;
  browserOrigin?: string;
  apiTokens: ApiTokens;
  tokenRequests: WeakMap<IncomingMessage, TokenRequestInfo>;
}): Middleware {
  const { provider, tenantId, issuer, sessionCookie, browserOrigin, apiTokens, tokenRequests } =
    context;
  return async (ctx, next) => {
    const requestedScope = typeof ctx.query?.scope === 'string' ? ctx.query.scope : undefined;
    await next();
    const route = ctx.oidc?.route;
    const body = isRecord(ctx.body) ? ctx.body : undefined;

    if (route === 'discovery' && ctx.status === 200 && body) {
      ctx.body = entraDiscovery(body, browserOrigin);
    } else if (route === 'jwks' && ctx.status === 200 && body && Array.isArray(body.keys)) {
      ctx.body = { keys: body.keys.map((key: object) => ({ ...key, issuer })) };
    } else if (route === 'token' && ctx.status === 200 && body) {
      const account = ctx.oidc?.entities.Account;
      if (account) body.client_info = clientInfoFor(account.accountId, tenantId);
      body.ext_expires_in = body.expires_in;
      await apiTokens.finishTokenResponse(ctx, tokenRequests.get(ctx.req));
    } else if ((route === 'authorization' || route === 'resume') && isRedirect(ctx.status)) {
      // Entra does not send RFC 9207's iss in authorization responses (and does not advertise it).
      const location = new URL(ctx.response.get('location'), issuer);
      apiTokens.afterAuthorization(ctx, location, requestedScope);
      if (location.searchParams.get('iss') === issuer) {
        location.searchParams.delete('iss');
        ctx.set('Location', location.href);
      }
    } else if (route === 'end_session' && ctx.status === 200) {
      await endSessionNow(ctx, provider, sessionCookie);
    } else if (route === 'resume' && ctx.status === 200 && ctx.oidc?.session?.state?.secret) {
      // Another account was picked (select_account, login): oidc-provider answers with a page
      // that posts a logout of the current one and comes back here. Entra just switches, so
      // end the old session now and redirect straight back to this resume URL.
      await endSessionNow(ctx, provider, sessionCookie);
    }
  };
}

/**
 * Entra signs out on GET (with logout_hint, without an account picker) and redirects to the
 * registered post_logout_redirect_uri. oidc-provider would render a confirmation form; its
 * checks (client_id, id_token_hint, registered URI) have run by now, so finish the job here.
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#send-a-sign-out-request
 */
async function endSessionNow(
  ctx: KoaContext,
  provider: Provider,
  sessionCookie: CookieOptions,
): Promise<void> {
  const oidc = ctx.oidc;
  const session = oidc?.session;
  if (!oidc || !session) return;
  const { postLogoutRedirectUri, state } = session.state ?? {};
  await session.destroy();
  // overwrite: replaces the Set-Cookie oidc-provider just wrote for the (now gone) session.
  ctx.cookies.set(provider.cookieName('session'), null, { ...sessionCookie, overwrite: true });

  let target = oidc.urlFor('end_session_success');
  if (postLogoutRedirectUri) {
    const url = new URL(postLogoutRedirectUri);
    if (state !== undefined) url.searchParams.set('state', String(state));
    target = url.href;
  }
  ctx.status = 303;
  ctx.redirect(target);
}

/**
 * The discovery document with Entra's members (values from oidc-provider, which serves them).
 * With a front door, the two endpoints a browser visits (authorize, logout) are on it; the
 * issuer and the server-to-server endpoints (token, keys) stay on https.
 */
function entraDiscovery(
  body: Record<string, unknown>,
  browserOrigin: string | undefined,
): Record<string, unknown> {
  const forBrowser = (endpoint: unknown) =>
    browserOrigin && typeof endpoint === 'string'
      ? `${browserOrigin}${new URL(endpoint).pathname}`
      : endpoint;
  return {
    token_endpoint: body.token_endpoint,
    token_endpoint_auth_methods_supported: body.token_endpoint_auth_methods_supported,
    jwks_uri: body.jwks_uri,
    response_modes_supported: body.response_modes_supported,
    subject_types_supported: body.subject_types_supported,
    id_token_signing_alg_values_supported: body.id_token_signing_alg_values_supported,
    response_types_supported: body.response_types_supported,
    scopes_supported: body.scopes_supported,
    issuer: body.issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: body.userinfo_endpoint,
    authorization_endpoint: forBrowser(body.authorization_endpoint),
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: forBrowser(body.end_session_endpoint),
    claims_supported: body.claims_supported,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

/** The login page (pick a test user) and automatic consent, as oidc-provider interactions. */
class InteractionHandler {
  constructor(
    private readonly provider: Provider,
    private readonly users: TestUser[],
    private readonly tenantId: string,
  ) {}

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
    cancel: boolean,
  ): Promise<void> {
    // Throws when the interaction cookie is missing or the interaction expired.
    const interaction = await this.provider.interactionDetails(req, res).catch(() => undefined);
    if (!interaction || interaction.uid !== uid) {
      return sendHtml(
        res,
        400,
        messagePage(
          'Sign-in expired',
          'This sign-in page is no longer valid (expired, already used, or its cookie is ' +
            'missing). Go back to the app and sign in again.',
        ),
      );
    }
    const action = `/${this.tenantId}/login/${uid}`;

    if (req.method === 'GET' && !cancel) {
      const accountId = interaction.session?.accountId;
      // Already signed in and only consent is missing: Entra's admin-consented apps skip the
      // consent screen, so grant it silently.
      if (interaction.prompt.name === 'consent' && accountId) {
        const grantId = await this.grantFor(interaction, accountId);
        return this.provider.interactionFinished(req, res, { consent: { grantId } });
      }
      return sendHtml(res, 200, loginPage(this.users, action, this.hintOf(interaction)));
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    if (cancel) {
      return this.provider.interactionFinished(req, res, USER_CANCELLED, {
        mergeWithLastSubmission: false,
      });
    }

    const username = (await readForm(req)).get('username')?.trim().toLowerCase();
    const user = this.users.find((u) => u.preferred_username.toLowerCase() === username);
    if (!user) {
      return sendHtml(res, 400, loginPage(this.users, action, this.hintOf(interaction), true));
    }
    const grantId = await this.grantFor(interaction, user.oid);
    return this.provider.interactionFinished(
      req,
      res,
      {
        select_account: {},
        login: { accountId: user.oid, amr: ['pwd'], remember: false },
        consent: { grantId },
      },
      { mergeWithLastSubmission: false },
    );
  }

  /** Consent is implied: grant every scope and claim the client asked for. */
  private async grantFor(interaction: Interaction, accountId: string): Promise<string> {
    const { Grant } = this.provider;
    const existing =
      interaction.grantId && interaction.session?.accountId === accountId
        ? await Grant.find(interaction.grantId)
        : undefined;
    const grant = existing ?? new Grant({ accountId, clientId: interaction.params.client_id });
    if (interaction.params.scope) grant.addOIDCScope(interaction.params.scope);
    const missingClaims = interaction.prompt.details.missingOIDCClaims;
    if (Array.isArray(missingClaims)) grant.addOIDCClaims(missingClaims as string[]);
    return grant.save();
  }

  private hintOf(interaction: Interaction): LoginHint | undefined {
    const hint = interaction.params.login_hint;
    if (typeof hint !== 'string' || !hint) return undefined;
    const normalized = hint.trim().toLowerCase();
    const user = this.users.find(
      (u) =>
        u.preferred_username.toLowerCase() === normalized ||
        u.email.toLowerCase() === normalized ||
        loginHintFor(u, this.tenantId) === hint,
    );
    return { value: hint, username: user?.preferred_username };
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res
    .writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    })
    .end(html);
}

function sendNotFound(res: ServerResponse, tenantId: string): void {
  res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(
    JSON.stringify({
      error: 'invalid_tenant',
      error_description: `AADSTS90002: Tenant not found. This emulator serves /${tenantId}/ only.`,
    }),
  );
}

function findUser(users: TestUser[], idOrName: string): TestUser | undefined {
  const wanted = idOrName.toLowerCase();
  return users.find((u) => u.oid === wanted || u.preferred_username.toLowerCase() === wanted);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value);
}

function isRedirect(status: number): boolean {
  return status === 302 || status === 303;
}
