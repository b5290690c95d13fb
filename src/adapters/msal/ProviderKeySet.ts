import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { AuthError } from '../../auth/errors';
import type { Logger } from '../../ports/Logger';
import type { SignedTokenHeader, SignedTokenParts, SigningKeys } from '../../ports/SigningKeys';
import { describeUpstreamError } from './describeUpstreamError';

/**
 * The provider's signing keys (JWKS), cached, in place of jose's createRemoteJWKSet, whose
 * cooldown refused a key rotated in within 30 s of the last fetch and which cached an empty
 * key set like a good one.
 * - A key set that is not a usable JWKS (an error status, not JSON, no keys) is an upstream
 *   failure, token_exchange_failed, and is never cached; the last good set stays in use.
 * - A token whose `kid` the cached set does not know triggers one refetch, even right after a
 *   fetch; further unknown-kid refetches wait `unknownKidCooldownMs` (a flood of made-up kids
 *   costs at most one fetch per cooldown).
 * - Each fetch is bounded by AUTH_IDP_TIMEOUT_MS; concurrent needs share one fetch.
 * @see https://learn.microsoft.com/entra/identity-platform/signing-key-rollover
 */

export interface ProviderKeySetOptions {
  /** Where the keys are (the discovery document's jwks_uri), resolved at first use. */
  jwksUri: () => Promise<string>;
  timeoutMs: number;
  /** A good set is refetched after this long (default 10 minutes, like jose). */
  maxAgeMs?: number;
  /** At most one unknown-kid refetch per this long (default 30 s, like jose's cooldown). */
  unknownKidCooldownMs?: number;
  log?: Logger;
  fetch?: typeof fetch;
  now?: () => number;
}

interface CachedKeySet {
  getKey: SigningKeys;
  kids: ReadonlySet<string>;
  fetchedAt: number;
}

export class ProviderKeySet {
  private cached?: CachedKeySet;
  private inFlight?: Promise<CachedKeySet>;
  private lastUnknownKidRefetchAt = Number.NEGATIVE_INFINITY;
  private readonly maxAgeMs: number;
  private readonly unknownKidCooldownMs: number;
  private readonly now: () => number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ProviderKeySetOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 10 * 60 * 1000;
    this.unknownKidCooldownMs = options.unknownKidCooldownMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.fetch = options.fetch ?? ((...args) => fetch(...args));
  }

  /** For jose's jwtVerify. */
  readonly getKey: SigningKeys = async (header: SignedTokenHeader, token: SignedTokenParts) => {
    let keySet = await this.current();
    if (
      header.kid !== undefined &&
      !keySet.kids.has(header.kid) &&
      this.mayRefetchForUnknownKid()
    ) {
      this.lastUnknownKidRefetchAt = this.now();
      keySet = await this.refetch();
    }
    // An unknown kid after the refetch is the token's problem: jose says so (invalid_id_token).
    return keySet.getKey(header, token);
  };

  private mayRefetchForUnknownKid(): boolean {
    return this.now() - this.lastUnknownKidRefetchAt >= this.unknownKidCooldownMs;
  }

  /** The cached set while fresh; past its age a refetch, falling back to it if that fails. */
  private async current(): Promise<CachedKeySet> {
    const cached = this.cached;
    if (cached && this.now() - cached.fetchedAt < this.maxAgeMs) return cached;
    try {
      return await this.refetch();
    } catch (error) {
      if (!cached) throw error;
      this.options.log?.warn(
        `signing keys: refresh failed, keeping the keys fetched ${Math.round((this.now() - cached.fetchedAt) / 1000)} s ago: ${(error as Error).message}`,
      );
      return cached;
    }
  }

  private refetch(): Promise<CachedKeySet> {
    this.inFlight ??= this.download()
      .then((keySet) => (this.cached = keySet))
      .finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async download(): Promise<CachedKeySet> {
    const uri = await this.options.jwksUri();
    const { timeoutMs } = this.options;
    let body: unknown;
    try {
      const response = await this.fetch(uri, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`answered ${response.status}`);
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(
          `answered ${response.status} with a body that is not JSON (${response.headers.get('content-type') ?? 'no content type'})`,
        );
      }
    } catch (error) {
      const timedOut = (error as { name?: unknown }).name === 'TimeoutError';
      throw unavailable(
        uri,
        timedOut
          ? `did not answer within ${timeoutMs} ms (AUTH_IDP_TIMEOUT_MS)`
          : describeUpstreamError(error),
        error,
      );
    }
    const keys = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw unavailable(
        uri,
        Array.isArray(keys) ? 'answered an empty key set' : 'answered no key set',
      );
    }
    let getKey: SigningKeys;
    try {
      getKey = createLocalJWKSet(body as JSONWebKeySet);
    } catch (error) {
      throw unavailable(
        uri,
        `answered a malformed key set: ${describeUpstreamError(error)}`,
        error,
      );
    }
    const kids = new Set(
      keys
        .map((key) => (key as { kid?: unknown } | null)?.kid)
        .filter((kid): kid is string => typeof kid === 'string'),
    );
    return { getKey, kids, fetchedAt: this.now() };
  }
}

function unavailable(uri: string, why: string, cause?: unknown): AuthError {
  return new AuthError('token_exchange_failed', `the signing keys at ${uri} ${why}`, { cause });
}
