import { readLimitedText } from './requestBody';
import { createHash, randomUUID, type JsonWebKey } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { importJWK, SignJWT, jwtVerify, type JWTPayload } from 'jose';
import type { KoaContext } from 'oidc-provider';
import { issuerOfTenant } from './tenants';
import {
  capabilitiesOf,
  GRAPH_APP_ID,
  GRAPH_RESOURCE,
  OIDC_SCOPES,
  parseResourceScopes,
  resourceRequestsOf,
  type ResourceRequest,
} from './resourceScopes';

export { GRAPH_APP_ID } from './resourceScopes';

/**
 * The emulator's access tokens for APIs, as Entra issues them: a JWT for one resource per token
 * request (Microsoft Graph, or the app's own `api://<client id>`), with the delegated scopes the
 * user consented to in `scp`. oidc-provider keeps doing the OAuth work (codes, refresh tokens,
 * client authentication); this class owns what Entra adds on top: resource scopes and their
 * consent, the access token itself, revocation of a user's refresh tokens, and a count of token
 * requests for tests and the bench.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 * @see https://learn.microsoft.com/entra/identity-platform/consent-types-developer#incremental-and-dynamic-user-consent
 */

const MAX_TOKEN_FORM_BYTES = 56 * 1024;
export const DEFAULT_ACCESS_TOKEN_SECONDS = 60 * 60;

/** What the token request asked for, kept from before oidc-provider saw the trimmed body. */
export interface TokenRequestInfo {
  grantType: string;
  resource?: ResourceRequest;
  /** A problem Entra would answer with before issuing anything (e.g. two resources). */
  problem?: { error: string; description: string };
  /** The client asked for CAE-capable tokens (`xms_cc` `cp1` in its claims parameter). */
  clientCapabilities: string[];
}

export interface TokenCounts {
  /** Every POST to the token endpoint, by grant_type. */
  byGrantType: Record<string, number>;
  total: number;
}

/** A daemon's registration: a confidential client granted application permissions (app roles). */
export interface EmulatorDaemon {
  clientId: string;
  clientSecret: string;
  /** Application permissions granted on the app's API (`api://<client id>`), with admin consent. */
  appRoles: string[];
}

interface UserView {
  oid: string;
  name: string;
  preferred_username: string;
  roles: string[];
  /** Another tenant than the emulator's own (see tenants.ts). */
  tenantId?: string;
}

export class ApiTokens {
  /** Consented scope names by resource, lower-cased (Entra's are case-insensitive) to as first spelled. */
  private readonly consents = new Map<string, Map<string, string>>();
  /** Refresh tokens issued per account, so that a revocation can find them. */
  private readonly refreshTokens = new Map<string, Set<string>>();
  private readonly revokedRefreshTokens = new Set<string>();
  /** When each account's sessions were last revoked (ms), for CAE challenges at Graph. */
  private readonly revokedAt = new Map<string, number>();
  private counts: TokenCounts = { byGrantType: {}, total: 0 };
  /** API scopes asked at authorize, while the user is at the login page, by interaction uid. */
  private readonly pendingScopes = new Map<string, string>();
  /** When each access token was issued, in ms (`iat` has whole seconds only), by `uti`. */
  private readonly issuedAtMs = new Map<string, number>();
  private readonly privateKey: ReturnType<typeof importJWK>;
  private readonly publicKey: ReturnType<typeof importJWK>;

  constructor(
    private readonly options: {
      issuer: string;
      tenantId: string;
      signingKey: JsonWebKey & { kid: string };
      users: ReadonlyMap<string, UserView>;
      accessTokenSeconds: number;
      /** The app's client id, whose API (`api://<client id>`) daemons call. */
      apiClientId: string;
      daemons: readonly EmulatorDaemon[];
    },
  ) {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = options.signingKey;
    this.privateKey = importJWK(options.signingKey as never, 'RS256');
    this.publicKey = importJWK(publicJwk as never, 'RS256');
  }

  get accessTokenSeconds(): number {
    return this.options.accessTokenSeconds;
  }

  set accessTokenSeconds(seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 1) throw new Error('lifetime must be >= 1 s');
    this.options.accessTokenSeconds = seconds;
  }

  tokenCounts(): TokenCounts {
    return { byGrantType: { ...this.counts.byGrantType }, total: this.counts.total };
  }

  resetCounts(): void {
    this.counts = { byGrantType: {}, total: 0 };
  }

  /**
   * Reads a token request's form before oidc-provider does, counts it, remembers the resource
   * scopes, and returns the same form with only the OpenID scopes for oidc-provider (it knows no
   * others; Entra treats the two kinds alike).
   */
  async prepareTokenRequest(
    req: IncomingMessage,
  ): Promise<{ info: TokenRequestInfo; form: string }> {
    const form = new URLSearchParams(
      await readLimitedText(req, MAX_TOKEN_FORM_BYTES, 'token request too large'),
    );
    const grantType = form.get('grant_type') ?? 'none';
    this.counts.byGrantType[grantType] = (this.counts.byGrantType[grantType] ?? 0) + 1;
    this.counts.total++;

    const info: TokenRequestInfo = { grantType, clientCapabilities: capabilitiesOf(form) };
    const scope = form.get('scope');
    if (scope !== null) {
      const all = scope.split(' ').filter(Boolean);
      // A daemon asks for the app's API by its URI: resolve scopes against the app, not the daemon.
      const clientId = this.options.apiClientId;
      const resolvingClient =
        grantType === 'client_credentials' ? clientId : (form.get('client_id') ?? clientId);
      const parsed = parseResourceScopes(all, resolvingClient);
      if ('problem' in parsed) info.problem = parsed.problem;
      else info.resource = parsed.resource;
      form.set('scope', all.filter((s) => OIDC_SCOPES.has(s)).join(' '));
    }
    return { info, form: form.toString() };
  }

  /**
   * After the authorize endpoint answered: when the code goes to the client, the user signed in
   * for the API scopes asked, and the emulator's consent is implied (as for the OpenID ones, see
   * InteractionHandler.grantFor). oidc-provider keeps only OpenID scopes in its params, so the
   * scopes come from the query, kept across the login page by interaction uid.
   */
  afterAuthorization(ctx: KoaContext, location: URL, requestedScope: string | undefined): void {
    const route = ctx.oidc?.route;
    const interaction = /\/login\/([^/?]+)$/.exec(location.pathname)?.[1];
    if (route === 'authorization' && interaction && requestedScope) {
      this.pendingScopes.set(interaction, requestedScope);
      if (this.pendingScopes.size > 1000) {
        this.pendingScopes.delete(this.pendingScopes.keys().next().value as string);
      }
      return;
    }
    const resumed = route === 'resume' ? /\/([^/]+)$/.exec(ctx.path)?.[1] : undefined;
    const scope = route === 'resume' ? resumed && this.pendingScopes.get(resumed) : requestedScope;
    if (resumed) this.pendingScopes.delete(resumed);
    const accountId = ctx.oidc?.session?.accountId;
    const clientId = ctx.oidc?.client?.clientId;
    if (location.searchParams.has('code') && accountId && clientId && scope) {
      this.recordConsent(accountId, clientId, scope);
    }
  }

  /** After a successful authorization: the user consented to every resource scope asked for. */
  recordConsent(accountId: string, clientId: string, scope: string | undefined): void {
    if (!scope) return;
    for (const request of resourceRequestsOf(scope.split(' '), clientId)) {
      const granted = this.consentOf(accountId, clientId, request.resource);
      for (const name of request.scopes) {
        if (name !== '.default' && !granted.has(name.toLowerCase())) {
          granted.set(name.toLowerCase(), name);
        }
      }
    }
  }

  /**
   * Turns oidc-provider's successful token response into Entra's: a refused refresh token or a
   * missing consent becomes Entra's error; otherwise the access token becomes a JWT for the
   * requested resource (Graph when none was named).
   */
  async finishTokenResponse(ctx: KoaContext, info: TokenRequestInfo | undefined): Promise<void> {
    const body = ctx.body as Record<string, unknown>;
    const account = ctx.oidc?.entities.Account;
    const clientId = ctx.oidc?.entities.Client?.clientId;
    if (!account || !clientId) return;
    const accountId = account.accountId;
    const presented = ctx.oidc?.params?.refresh_token;
    if (
      info?.grantType === 'refresh_token' &&
      typeof presented === 'string' &&
      this.revokedRefreshTokens.has(presented)
    ) {
      return entraError(ctx, 'invalid_grant', 50173, 'bad_token', REVOKED_DESCRIPTION);
    }
    if (info?.problem) {
      ctx.status = 400;
      ctx.body = { error: info.problem.error, error_description: info.problem.description };
      return;
    }
    const resource = info?.resource ?? {
      resource: GRAPH_RESOURCE,
      audience: GRAPH_APP_ID,
      scopes: ['.default'],
    };
    const consented = this.consentOf(accountId, clientId, resource.resource);
    const missing = resource.scopes.filter(
      (s) => s !== '.default' && !consented.has(s.toLowerCase()),
    );
    if (missing.length > 0) {
      return entraError(
        ctx,
        'invalid_grant',
        65001,
        'consent_required',
        `AADSTS65001: The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource (missing: ${missing.join(' ')}).`,
      );
    }
    const scp = resource.scopes.includes('.default') ? [...consented.values()] : resource.scopes;
    const user = this.options.users.get(accountId);
    // A user of the second tenant gets tokens of that tenant (tenants.ts), as Entra issues them.
    const { tenantId, issuer } = this.options;
    const userTenant = user?.tenantId ?? tenantId;
    const lifetime = this.options.accessTokenSeconds;
    const uti = randomUUID();
    body.access_token = await this.sign(
      {
        aud: resource.audience,
        scp: scp.join(' '),
        azp: clientId,
        oid: accountId,
        tid: userTenant,
        sub: createHash('sha256').update(`${resource.audience}\n${accountId}`).digest('base64url'),
        name: user?.name,
        preferred_username: user?.preferred_username,
        ...(resource.audience === clientId && user?.roles.length ? { roles: user.roles } : {}),
        ...(info?.clientCapabilities.length ? { xms_cc: info.clientCapabilities } : {}),
        ver: '2.0',
        uti,
      },
      lifetime,
      issuerOfTenant(issuer, tenantId, userTenant),
    );
    this.issuedAtMs.set(uti, Date.now());
    if (this.issuedAtMs.size > 10_000) {
      this.issuedAtMs.delete(this.issuedAtMs.keys().next().value as string);
    }
    body.token_type = 'Bearer';
    body.expires_in = lifetime;
    body.ext_expires_in = lifetime;
    // Entra names the granted scopes of that resource, plus the OpenID ones it honoured.
    const prefix = resource.resource === GRAPH_RESOURCE ? '' : `${resource.resource}/`;
    body.scope = [...scp.map((s) => prefix + s), 'openid', 'profile', 'email'].join(' ');
    if (typeof body.refresh_token === 'string') {
      let issued = this.refreshTokens.get(accountId);
      if (!issued) this.refreshTokens.set(accountId, (issued = new Set()));
      issued.add(body.refresh_token);
    }
  }

  /**
   * The client credentials grant as Entra answers it: `scope` must be `<resource>/.default`; the
   * app-only token carries the application permissions granted on that resource in `roles`,
   * `idtyp: app`, and `sub` = `oid` = the daemon's service principal; no `scp`, no user.
   * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
   */
  async clientCredentials(
    form: URLSearchParams,
    info: TokenRequestInfo,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const daemon = this.options.daemons.find((d) => d.clientId === form.get('client_id'));
    if (!daemon || form.get('client_secret') !== daemon.clientSecret) {
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client secret provided.',
        },
      };
    }
    if (info.problem) return { status: 400, body: { ...info.problem } };
    const resource = info.resource;
    if (!resource || resource.scopes.join(' ') !== '.default') {
      return {
        status: 400,
        body: {
          error: 'invalid_scope',
          error_description:
            'AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
        },
      };
    }
    const ownApi = resource.audience === this.options.apiClientId;
    const lifetime = this.options.accessTokenSeconds;
    // The daemon's service principal: a stable id derived from its client id.
    const principal = stableGuid(`sp\n${daemon.clientId}`);
    const accessToken = await this.sign(
      {
        aud: resource.audience,
        azp: daemon.clientId,
        azpacr: '1',
        oid: principal,
        sub: principal,
        tid: this.options.tenantId,
        idtyp: 'app',
        ...(ownApi && daemon.appRoles.length ? { roles: daemon.appRoles } : {}),
        ver: '2.0',
        uti: randomUUID(),
      },
      lifetime,
    );
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: accessToken,
      },
    };
  }

  /**
   * Test switch: a token signed with the emulator's key and issuer, with the claims given
   * (`exp` relative to now), to present tokens Entra would issue in shapes the flows here do
   * not produce: expired ones, ID tokens, tokens of other tenants.
   */
  mint(claims: Record<string, unknown>, lifetimeSeconds: number, issuer?: string): Promise<string> {
    return this.sign(
      { tid: this.options.tenantId, ver: '2.0', ...claims },
      lifetimeSeconds,
      issuer,
    );
  }

  /** The revoke switch: every refresh token the user holds stops working (AADSTS50173). */
  revokeRefreshTokens(accountId: string): number {
    const issued = this.refreshTokens.get(accountId) ?? new Set<string>();
    for (const token of issued) this.revokedRefreshTokens.add(token);
    this.refreshTokens.delete(accountId);
    this.revokedAt.set(accountId, Date.now());
    return issued.size;
  }

  /** Whether the token was issued before the user's last revocation (CAE challenges it then). */
  issuedBeforeRevocation(claims: JWTPayload): boolean {
    const revokedAt = typeof claims.oid === 'string' ? this.revokedAt.get(claims.oid) : undefined;
    if (revokedAt === undefined) return false;
    const issuedAt =
      (typeof claims.uti === 'string' ? this.issuedAtMs.get(claims.uti) : undefined) ??
      (claims.iat ?? 0) * 1000;
    return issuedAt < revokedAt;
  }

  /** When the user's sessions were last revoked, in ms. */
  revokedAtOf(accountId: string): number | undefined {
    return this.revokedAt.get(accountId);
  }

  /** Verifies a bearer token this emulator issued for the given audience, in either tenant. */
  async verify(token: string, audience: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, await this.publicKey, {
      audience,
      algorithms: ['RS256'],
      typ: 'JWT',
    });
    const { tenantId, issuer, users } = this.options;
    const tenants = new Set([tenantId, ...[...users.values()].map((u) => u.tenantId ?? tenantId)]);
    const tid = typeof payload.tid === 'string' ? payload.tid : '';
    if (!tenants.has(tid) || payload.iss !== issuerOfTenant(issuer, tenantId, tid)) {
      throw Object.assign(new Error('unexpected "iss" claim value'), {
        code: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      });
    }
    return payload;
  }

  private async sign(
    claims: Record<string, unknown>,
    lifetimeSeconds: number,
    issuer = this.options.issuer,
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    // A negative lifetime (mint) makes a token that expired that long ago, issued before that.
    const issuedAt = lifetimeSeconds < 0 ? now + lifetimeSeconds - 60 : now;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.options.signingKey.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(await this.privateKey);
  }

  private consentOf(accountId: string, clientId: string, resource: string): Map<string, string> {
    const key = `${accountId}\n${clientId}\n${resource}`;
    let granted = this.consents.get(key);
    if (!granted) this.consents.set(key, (granted = new Map()));
    return granted;
  }
}

/** A GUID-shaped id that is the same for the same input (service principal ids). */
function stableGuid(input: string): string {
  const hex = createHash('sha256').update(input).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The token request again, with the body oidc-provider should read (same socket and headers). */
export function replayRequest(original: IncomingMessage, form: string): IncomingMessage {
  const replay = new IncomingMessage(original.socket);
  replay.method = original.method;
  replay.url = original.url;
  replay.headers = { ...original.headers, 'content-length': String(Buffer.byteLength(form)) };
  replay.push(form);
  replay.push(null);
  // Else Node treats the request as aborted when it ends, and closes the client's socket.
  replay.complete = true;
  return replay;
}

const REVOKED_DESCRIPTION =
  "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '' and the TokensValidFrom date (before which tokens are not valid) for this user is ''.";

/** Entra's error body: error, description with its AADSTS code, error_codes and suberror. */
function entraError(
  ctx: KoaContext,
  error: string,
  code: number,
  suberror: string,
  description: string,
): void {
  ctx.status = 400;
  ctx.body = {
    error,
    error_description: description,
    error_codes: [code],
    suberror,
    timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
    trace_id: randomUUID(),
    correlation_id: randomUUID(),
  };
}
