import { LOOPBACK_HOSTS } from '../config';
import type { AuthContext } from './AuthContext';
import { encodeState, evictFlowCookies, flowCookie, flowCookieLifetimeSeconds } from './cookies';
import { AuthError } from './errors';
import { isClaimsRequest } from './claimsChallenge';
import { forLog } from './redact';
import { checkParameter } from './requestLimits';
import type { RedirectResult } from './results';
import { resolveReturnTo } from './returnTo';
import { FLOW_SECRET_BYTES, createPkce, randomToken, sha256 } from './secrets';

export interface LoginRequest {
  /** The URL of the login request as this app received it. */
  url: URL;
  cookies: Readonly<Record<string, string>>;
  /**
   * X-Forwarded-Proto, if any. Behind a TLS-terminating front end (App Service) the worker
   * may see http for an https request; the header says what the browser used. Trusting a
   * forged "https" only skips a redirect for the one client that forged it.
   */
  forwardedProto?: string;
}

/** Entra's prompt values. @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#request-an-authorization-code */
const PROMPTS = /^(login|none|consent|select_account|create)$/;

/**
 * Starts a sign-in: one new flow record per attempt (state, nonce, PKCE verifier, return URL),
 * bound to this browser by its own flow cookie, then off to the authorize endpoint.
 */
export async function startLogin(ctx: AuthContext, request: LoginRequest): Promise<RedirectResult> {
  const { config, store, clock, log } = ctx;
  const query = request.url.searchParams;
  const requestedReturnTo = checkParameter('returnTo', query.get('returnTo') ?? undefined, {
    maxLength: 4096,
    pattern: /^[^\r\n]*$/,
  });
  const prompt = checkParameter('prompt', query.get('prompt') ?? undefined, {
    maxLength: 32,
    pattern: PROMPTS,
  });
  const loginHint = checkParameter('login_hint', query.get('login_hint') ?? undefined, {
    maxLength: 256,
  });
  const domainHint = checkParameter('domain_hint', query.get('domain_hint') ?? undefined, {
    maxLength: 256,
    pattern: /^[A-Za-z0-9.-]*$/,
  });
  // Incremental consent and claims challenges: requireUser sends the browser here with the API
  // scopes a token needs, or the claims an API asked for.
  const extraScopes = checkParameter('scope', query.get('scope') ?? undefined, {
    maxLength: 1024,
    pattern: /^[A-Za-z0-9._:/ -]*$/,
  })
    ?.split(' ')
    .filter(Boolean);
  const claims = checkParameter('claims', query.get('claims') ?? undefined, { maxLength: 4096 });
  if (claims !== undefined && !isClaimsRequest(claims)) {
    throw new AuthError('invalid_request', 'the claims parameter is not a JSON object');
  }

  // The flow cookie must be set on the host the callback lands on: cookies are scoped by host
  // name, so 127.0.0.1 vs localhost (or a custom domain vs azurewebsites.net) would lose it.
  const canonical = config.redirectUri;
  const protocol =
    request.forwardedProto?.split(',')[0]?.trim().toLowerCase() === 'https'
      ? 'https:'
      : request.url.protocol;
  // Behind a TLS-terminating front end every request says https: "moving" to an http redirect
  // URI on this very host and port would come back as https again, forever.
  const sameHostAndPort = request.url.host.toLowerCase() === canonical.host.toLowerCase();
  if (sameHostAndPort && protocol === 'https:' && canonical.protocol === 'http:') {
    throw new AuthError(
      'misconfigured',
      `sign-in requested over https (X-Forwarded-Proto or the URL), but AUTH_REDIRECT_URI is ${canonical.href}: set AUTH_REDIRECT_URI to the https URL users open.`,
    );
  }
  if (
    request.url.hostname.toLowerCase() !== canonical.hostname.toLowerCase() ||
    protocol !== canonical.protocol
  ) {
    const location = new URL(request.url.pathname + request.url.search, canonical.origin).href;
    log.info(`login: moving to the redirect URI's origin ${canonical.origin} before any cookie`);
    return { kind: 'redirect', location, cookies: [] };
  }

  if (protocol === 'http:' && !LOOPBACK_HOSTS.has(request.url.hostname)) {
    throw new AuthError(
      'misconfigured',
      `sign-in served over plain http on ${request.url.host}: browsers drop the Secure flow cookie there. Serve the app over https, or use http://localhost for local development.`,
    );
  }

  const { returnTo, rejected } = resolveReturnTo(
    requestedReturnTo,
    config.allowedRedirectOrigins,
    config.defaultReturnTo,
  );
  if (rejected) log.warn(`login: returnTo refused (${forLog(rejected)}); using ${returnTo}`);

  const createdAt = clock.now();
  const cookieLifetimeSeconds = flowCookieLifetimeSeconds(config.flowTtlSeconds);
  const key = { partition: store.partitionFor(createdAt), id: randomToken(FLOW_SECRET_BYTES) };
  const cookieSecret = randomToken(FLOW_SECRET_BYTES);
  const nonce = randomToken(FLOW_SECRET_BYTES);
  const { codeVerifier, codeChallenge } = createPkce();
  // The provider first (its discovery, once per process): if it is unreachable, no record is
  // left behind. Then the record's write and the URL's making (CPU only, from here) overlap.
  await ctx.identityProvider.metadata();
  const [location] = await Promise.all([
    ctx.identityProvider.buildAuthorizationUrl({
      state: encodeState(key),
      nonce,
      codeChallenge,
      prompt,
      loginHint,
      domainHint,
      extraScopes,
      claims,
    }),
    store.createFlow({
      key,
      nonce,
      codeVerifier,
      returnTo,
      cookieHash: sha256(cookieSecret),
      createdAt,
      expiresAt: new Date(createdAt.getTime() + config.flowTtlSeconds * 1000),
    }),
  ]);

  return {
    kind: 'redirect',
    location,
    cookies: [
      ...evictFlowCookies(request.cookies, createdAt, cookieLifetimeSeconds),
      // The cookie outlives the record, so that a late or repeated callback is told "expired"
      // or "already used" rather than "missing cookie".
      flowCookie(key.id, cookieSecret, createdAt, cookieLifetimeSeconds),
    ],
  };
}
