import type { RecordKey } from './AuthStore';

/**
 * Where a session's token cache lives: one record beside the session (same key), holding a
 * sealed blob the store cannot read (see src/auth/tokenCacheCrypto.ts) and, while one request
 * refreshes, a short lease. Every write is conditional on the version read, so of two writers
 * exactly one wins.
 */

export interface TokenCacheLease {
  /** Random per refresh: tells the holder's own lease from another's. */
  id: string;
  until: Date;
}

export interface StoredTokenCache {
  sealed: Uint8Array;
  lease?: TokenCacheLease;
  /** The version (ETag) a conditional write needs. */
  version: string;
}

export interface TokenCacheWrite {
  sealed: Uint8Array;
  /** Absent: no lease (a refresh finished, or none is running). */
  lease?: TokenCacheLease;
}

export interface TokenCacheStore {
  readTokenCache(session: RecordKey): Promise<StoredTokenCache | undefined>;
  /**
   * Replaces the record if it is still at `expectedVersion`; returns the new version, or
   * undefined when another writer changed (or deleted) it first.
   */
  replaceTokenCache(
    session: RecordKey,
    write: TokenCacheWrite,
    expectedVersion: string,
  ): Promise<string | undefined>;
  /** Deletes the record; a missing one is fine. */
  deleteTokenCache(session: RecordKey): Promise<void>;
}

/** Table Storage holds at most 64 KiB in one binary property: the sealed blob must fit. */
export const MAX_SEALED_TOKEN_CACHE_BYTES = 64 * 1024;
