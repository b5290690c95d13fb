import type { RecordKey } from '../ports/AuthStore';
import type { IssuedTokens } from '../ports/IdentityProvider';
import { MAX_SEALED_TOKEN_CACHE_BYTES } from '../ports/TokenCacheStore';
import { open, seal } from './tokenCacheCrypto';

/**
 * What a session's token cache holds, in clear only inside this process: the refresh token, the
 * access tokens by scope with their expiries, the last refusal (so that requests waiting on a
 * refresh that failed fail the same way, without calling the token endpoint again) and a pause
 * after a throttled or failed refresh. Nothing else:
 * no ID token, no claims, no account records.
 */

export interface CachedAccessToken {
  token: string;
  /** As the provider named them; compared case-insensitively. */
  scopes: string[];
  issuedAtMs: number;
  expiresAtMs: number;
}

export type TokenFailureCode = 'consent_required' | 'reauthentication_required';

export interface TokenCacheContents {
  v: 1;
  refreshToken?: string;
  accessTokens: CachedAccessToken[];
  lastFailure?: { code: TokenFailureCode; scopes: string[]; atMs: number };
  /**
   * After a refresh of `scopes` that the provider throttled (for its Retry-After) or failed (a
   * short while): until `untilMs` a token not yet expired serves without trying again, on every
   * instance; with none left, a throttle of these scopes is answered with the seconds to wait.
   */
  refreshPause?: { scopes: string[]; atMs: number; untilMs: number; throttled: boolean };
}

/** At most this many access tokens (one per API and scope set) are kept per session. */
export const MAX_ACCESS_TOKENS = 8;
/** Refresh this long before expiry (MSAL's default offset), less for very short tokens. */
const REFRESH_MARGIN_SECONDS = 5 * 60;
/**
 * Never less than this: expiries come in whole seconds (`expires_in`, the token's `exp`), so the
 * app's estimate can run up to a second past the API's, plus the call's own latency.
 */
const MIN_REFRESH_MARGIN_MS = 2_000;
/** The sign-in's own scopes: not an API's, so never part of a cached token's key. */
export const OPENID_SCOPES: ReadonlySet<string> = new Set([
  'openid',
  'profile',
  'email',
  'offline_access',
]);

/** The scopes as compared: API scopes only, lower-cased, sorted, without repeats. */
export function normaliseScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((s) => s.trim().toLowerCase()).filter(Boolean))]
    .filter((s) => !OPENID_SCOPES.has(s))
    .sort();
}

/** A cached token that carries every scope asked for and is not about to expire. */
export function findUsable(
  contents: TokenCacheContents,
  scopes: readonly string[],
  nowMs: number,
): CachedAccessToken | undefined {
  return contents.accessTokens.find((t) => carries(t, scopes) && nowMs < refreshAtMs(t));
}

/**
 * A cached token that carries every scope and has not expired yet, though it is due for
 * refresh: what a request still gets while the provider cannot refresh it (down, or throttling).
 */
export function findUnexpired(
  contents: TokenCacheContents,
  scopes: readonly string[],
  nowMs: number,
): CachedAccessToken | undefined {
  return contents.accessTokens.find(
    (t) => carries(t, scopes) && nowMs < t.expiresAtMs - MIN_REFRESH_MARGIN_MS,
  );
}

function carries(token: CachedAccessToken, scopes: readonly string[]): boolean {
  const carried = normaliseScopes(token.scopes);
  return scopes.every((s) => carried.includes(s));
}

/**
 * When a token is due for refresh: 5 minutes before expiry, or a tenth of its life if shorter,
 * but at least 2 seconds before.
 */
export function refreshAtMs(token: CachedAccessToken): number {
  const lifetimeMs = token.expiresAtMs - token.issuedAtMs;
  const marginMs = Math.max(
    MIN_REFRESH_MARGIN_MS,
    Math.min(REFRESH_MARGIN_SECONDS * 1000, lifetimeMs / 10),
  );
  return token.expiresAtMs - marginMs;
}

/** The cache after a token response: a rotated refresh token replaces the old one. */
export function withIssuedTokens(
  contents: TokenCacheContents,
  issued: IssuedTokens,
  nowMs: number,
): TokenCacheContents {
  const accessTokens = contents.accessTokens.filter((t) => t.expiresAtMs > nowMs);
  if (issued.accessToken) {
    const scopes = issued.accessToken.scopes.filter((s) => normaliseScopes([s]).length > 0);
    const key = normaliseScopes(scopes).join(' ');
    const fresh: CachedAccessToken = {
      token: issued.accessToken.token,
      scopes,
      issuedAtMs: nowMs,
      expiresAtMs: issued.accessToken.expiresAt.getTime(),
    };
    const others = accessTokens.filter((t) => normaliseScopes(t.scopes).join(' ') !== key);
    accessTokens.splice(0, accessTokens.length, fresh, ...others);
  }
  return {
    v: 1,
    refreshToken: issued.refreshToken ?? contents.refreshToken,
    accessTokens: accessTokens.slice(0, MAX_ACCESS_TOKENS),
  };
}

export function emptyTokenCache(): TokenCacheContents {
  return { v: 1, accessTokens: [] };
}

/**
 * Seals the contents for the session's row, dropping the access tokens nearest expiry first if
 * the blob would not fit Table Storage's 64 KiB property (the refresh token always fits: a few KiB).
 */
export function sealTokenCache(
  contents: TokenCacheContents,
  sessionSecret: string,
  session: RecordKey,
): Uint8Array {
  const kept = { ...contents, accessTokens: [...contents.accessTokens] };
  kept.accessTokens.sort((a, b) => b.expiresAtMs - a.expiresAtMs);
  for (;;) {
    const sealed = seal(JSON.stringify(kept), sessionSecret, session);
    if (sealed.length <= MAX_SEALED_TOKEN_CACHE_BYTES) return sealed;
    if (kept.accessTokens.length === 0) {
      throw new Error(
        `the refresh token alone does not fit in ${MAX_SEALED_TOKEN_CACHE_BYTES} bytes`,
      );
    }
    kept.accessTokens.pop();
  }
}

/** The contents, or undefined when the blob does not open with this session's secret. */
export function openTokenCache(
  sealed: Uint8Array,
  sessionSecret: string,
  session: RecordKey,
): TokenCacheContents | undefined {
  const plaintext = open(sealed, sessionSecret, session);
  if (plaintext === undefined) return undefined;
  const parsed = JSON.parse(plaintext) as TokenCacheContents;
  return parsed.v === 1 && Array.isArray(parsed.accessTokens) ? parsed : undefined;
}
