import type { RecordKey } from '../ports/AuthStore';
import type { StoredTokenCache } from '../ports/TokenCacheStore';
import type { AuthContext } from './AuthContext';
import { AuthError, isAuthError } from './errors';
import { errorForLog } from './redact';
import { randomToken } from './secrets';
import {
  findUnexpired,
  findUsable,
  normaliseScopes,
  openTokenCache,
  sealTokenCache,
  withIssuedTokens,
  type TokenCacheContents,
  type TokenFailureCode,
} from './tokenCache';

/**
 * Access tokens for APIs, as the signed-in user, from the session's token cache: a cache hit is
 * one table read; an expired token is refreshed exactly once whatever the concurrency. Within an
 * instance concurrent requests share one refresh (SingleFlight); across instances the first to
 * write a short lease on the cache row (ETag-conditional) refreshes, the others wait for its write,
 * bounded, and read the result.
 */

export interface AccessTokenRequest {
  /** The API's scopes, e.g. `['User.Read']` or `['api://<client id>/Orders.Read']`. */
  scopes: readonly string[];
  /** A claims challenge from the API (JSON): skips the cache and refreshes with these claims. */
  claims?: string;
}

/** An access token for an API, as getAccessToken and requireUser's `accessToken` give it. */
export interface AccessToken {
  /** The bearer token: for the Authorization header of the API call, never for the browser. */
  token: string;
  scopes: string[];
  expiresAt: Date;
}

/** The session whose token is wanted: its record key and the cookie's secret that seals it. */
export interface SessionTokens {
  key: RecordKey;
  secret: string;
}

/** A refresh holds the row for this long; a crashed holder is taken over after it. */
export const REFRESH_LEASE_SECONDS = 20;
/** How often a request waiting on another instance's refresh reads the row again. */
const LEASE_POLL_MS = 50;
/** After the provider failed a refresh (down, timing out), a token still valid serves this long. */
export const OUTAGE_PAUSE_SECONDS = 30;

export async function getAccessToken(
  ctx: AuthContext,
  session: SessionTokens,
  request: AccessTokenRequest,
): Promise<AccessToken> {
  // Compared lower-cased (Entra's scopes are case-insensitive), sent as the caller spelled them.
  const scopes = normaliseScopes(request.scopes);
  if (scopes.length === 0) {
    throw new Error('getAccessToken needs at least one API scope, e.g. User.Read');
  }
  const asked = apiScopesAsSpelled(request.scopes);
  let read: { stored: StoredTokenCache | undefined } | undefined;
  if (!request.claims) {
    read = { stored: await ctx.tokenCache.readTokenCache(session.key) };
    const contents = read.stored && openOrFail(ctx, read.stored, session, asked);
    const usable = contents && findUsable(contents, scopes, ctx.clock.now().getTime());
    if (usable) return toAccessToken(usable);
  }
  const flight = `${session.key.partition}/${session.key.id}/${scopes.join(' ')}/${request.claims ?? ''}`;
  // The row just read starts the refresh: its lease write is conditional on that row's ETag, so
  // a row changed meanwhile (another refresh) is read again there, never overwritten.
  return ctx.refreshes.run(flight, () =>
    refreshOnce(ctx, session, scopes, asked, request.claims, read),
  );
}

async function refreshOnce(
  ctx: AuthContext,
  session: SessionTokens,
  scopes: string[],
  asked: string[],
  claims: string | undefined,
  /** The row as the caller read it a moment ago, if it did: the first turn needs no read. */
  alreadyRead?: { stored: StoredTokenCache | undefined },
): Promise<AccessToken> {
  const startedMs = ctx.clock.now().getTime();
  // Long enough for one lease to run out and a second taker to finish.
  const deadlineMs = startedMs + 2 * REFRESH_LEASE_SECONDS * 1000;
  // Whether this request waited on another's refresh: its outcome is then this request's too.
  let waited = false;
  let first = alreadyRead;
  for (;;) {
    const stored = first ? first.stored : await ctx.tokenCache.readTokenCache(session.key);
    first = undefined;
    if (!stored) throw reauthentication('this session has no token cache', asked);
    const contents = openOrFail(ctx, stored, session, asked);
    const nowMs = ctx.clock.now().getTime();
    const usable = findUsable(contents, scopes, nowMs);
    // With a claims challenge only a token issued while this request waited will do.
    if (usable && (!claims || waited)) return toAccessToken(usable);
    // Only a failure of the refresh this request waited for (recorded since it started).
    const failure = contents.lastFailure;
    if (
      waited &&
      failure &&
      failure.atMs >= startedMs &&
      failure.scopes.join(' ') === scopes.join(' ')
    ) {
      throw failureOf(
        failure.code,
        'the refresh this request waited for was refused',
        asked,
        claims,
      );
    }
    if (!contents.refreshToken) {
      throw reauthentication('the refresh token was refused earlier', asked, claims);
    }
    const paused = pausedAnswer(contents, scopes, claims, nowMs, waited ? startedMs : undefined);
    if (paused) return paused;
    if (stored.lease && stored.lease.until.getTime() > nowMs) {
      if (nowMs > deadlineMs) {
        throw new AuthError(
          'token_exchange_failed',
          `another request's token refresh did not finish within ${2 * REFRESH_LEASE_SECONDS} s`,
        );
      }
      waited = true;
      await sleep(LEASE_POLL_MS);
      continue;
    }
    const lease = { id: randomToken(12), until: new Date(nowMs + REFRESH_LEASE_SECONDS * 1000) };
    const leased = await ctx.tokenCache.replaceTokenCache(
      session.key,
      { sealed: stored.sealed, lease },
      stored.version,
    );
    // Another request changed the row first (took the lease, or finished): read it again.
    if (!leased) continue;
    return refreshUnderLease(ctx, session, contents, leased, { scopes, asked }, claims);
  }
}

async function refreshUnderLease(
  ctx: AuthContext,
  session: SessionTokens,
  contents: TokenCacheContents,
  leaseVersion: string,
  { scopes, asked }: { scopes: string[]; asked: string[] },
  claims: string | undefined,
): Promise<AccessToken> {
  const release = async (next: TokenCacheContents) => {
    const written = await ctx.tokenCache.replaceTokenCache(
      session.key,
      { sealed: sealTokenCache(next, session.secret, session.key) },
      leaseVersion,
    );
    if (!written) ctx.log.warn('tokens: the refresh lease was lost before its result was written');
    return written;
  };
  let issued;
  try {
    issued = await ctx.identityProvider.refreshAccessToken({
      refreshToken: contents.refreshToken as string,
      scopes: asked,
      claims,
    });
  } catch (error) {
    const code = isAuthError(error) ? error.code : undefined;
    const atMs = ctx.clock.now().getTime();
    if (code === 'reauthentication_required') {
      // The refresh token is dead: drop it and every token, in the one write that ends the lease.
      await release({ v: 1, accessTokens: [], lastFailure: { code, scopes, atMs } });
      throw failureOf(code, (error as Error).message, asked, claims, error);
    }
    if (code === 'consent_required') {
      await release({ ...contents, lastFailure: { code, scopes, atMs }, refreshPause: undefined });
      throw failureOf(code, (error as Error).message, asked, claims, error);
    }
    // An outage, a timeout or a throttle: the tokens stay as they were, and the refresh pauses
    // (for the provider's Retry-After, or a short while) on every instance. Meanwhile a token
    // that has not expired yet still serves.
    const throttled = code === 'idp_throttled';
    const pauseSeconds = throttled
      ? ((error as AuthError).retryAfterSeconds ?? OUTAGE_PAUSE_SECONDS)
      : OUTAGE_PAUSE_SECONDS;
    const refreshPause =
      pauseSeconds > 0
        ? { scopes, atMs, untilMs: atMs + pauseSeconds * 1000, throttled }
        : undefined;
    await release({ ...contents, refreshPause }).catch((releaseError: unknown) => {
      ctx.log.warn(
        `tokens: lease not released after a failed refresh: ${errorForLog(releaseError)}`,
      );
    });
    const unexpired = stillServing(contents, scopes, claims, atMs);
    if (!unexpired) throw error;
    ctx.log.warn(
      `tokens: refresh failed (${code ?? 'error'}); the cached token serves until it expires`,
    );
    return unexpired;
  }
  const nowMs = ctx.clock.now().getTime();
  await release(withIssuedTokens(contents, issued, nowMs));
  ctx.log.info(`tokens: refreshed an access token for ${scopes.join(' ')}`);
  return {
    token: issued.accessToken.token,
    scopes: issued.accessToken.scopes,
    expiresAt: issued.accessToken.expiresAt,
  };
}

/**
 * While the refresh is paused: the token that has not expired yet (of any scopes: the provider
 * is refusing or failing this session's refreshes). Without one, for the scopes whose refresh
 * paused it: a throttle answers idp_throttled with the seconds left, and a request that waited
 * on that very refresh (`waitedSinceMs`) fails with it rather than asking a provider that is
 * down once more. Otherwise undefined: a refresh may go ahead.
 */
function pausedAnswer(
  contents: TokenCacheContents,
  scopes: string[],
  claims: string | undefined,
  nowMs: number,
  waitedSinceMs: number | undefined,
): AccessToken | undefined {
  const pause = contents.refreshPause;
  if (!pause || pause.untilMs <= nowMs) return undefined;
  const unexpired = stillServing(contents, scopes, claims, nowMs);
  if (unexpired) return unexpired;
  if (pause.scopes.join(' ') !== scopes.join(' ')) return undefined;
  if (pause.throttled) {
    const retryAfterSeconds = Math.ceil((pause.untilMs - nowMs) / 1000);
    throw new AuthError(
      'idp_throttled',
      `the token endpoint asked this session's refresh to wait (Retry-After); not asking again for ${retryAfterSeconds} s`,
      { retryAfterSeconds, details: `Wait ${retryAfterSeconds} seconds and try again.` },
    );
  }
  if (waitedSinceMs !== undefined && pause.atMs >= waitedSinceMs) {
    throw new AuthError(
      'token_exchange_failed',
      'the token refresh this request waited for failed (the token endpoint did not answer)',
    );
  }
  return undefined;
}

/**
 * The cached token that still serves while its refresh cannot happen: not expired yet, and
 * never after a claims challenge (the API has refused that token already).
 */
function stillServing(
  contents: TokenCacheContents,
  scopes: string[],
  claims: string | undefined,
  nowMs: number,
): AccessToken | undefined {
  const unexpired = claims ? undefined : findUnexpired(contents, scopes, nowMs);
  return unexpired && toAccessToken(unexpired);
}

function openOrFail(
  ctx: AuthContext,
  stored: StoredTokenCache,
  session: SessionTokens,
  scopes: string[],
): TokenCacheContents {
  const contents = openTokenCache(stored.sealed, session.secret, session.key);
  if (contents) return contents;
  ctx.log.warn('tokens: the token cache does not open with this session (tampered or foreign)');
  throw reauthentication('the token cache does not open with this session', scopes);
}

function reauthentication(message: string, scopes: string[], claims?: string): AuthError {
  return failureOf('reauthentication_required', message, scopes, claims);
}

function failureOf(
  code: TokenFailureCode,
  message: string,
  scopes: string[],
  claims: string | undefined,
  cause?: unknown,
): AuthError {
  return new AuthError(code, message, { cause, signIn: { scopes, claims } });
}

function toAccessToken(cached: {
  token: string;
  scopes: string[];
  expiresAtMs: number;
}): AccessToken {
  return { token: cached.token, scopes: cached.scopes, expiresAt: new Date(cached.expiresAtMs) };
}

/** The API scopes without repeats (case-insensitively) or OpenID ones, as the caller wrote them. */
function apiScopesAsSpelled(requested: readonly string[]): string[] {
  const seen = new Set<string>();
  return requested
    .map((s) => s.trim())
    .filter((s) => {
      const key = s.toLowerCase();
      if (!s || seen.has(key) || normaliseScopes([s]).length === 0) return false;
      seen.add(key);
      return true;
    });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
