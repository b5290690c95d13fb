import { RestError, type TableClient, type TableEntity } from '@azure/data-tables';
import { AuthError } from '../../auth/errors';
import type { RecordKey } from '../../ports/AuthStore';
import type {
  StoredTokenCache,
  TokenCacheStore,
  TokenCacheWrite,
} from '../../ports/TokenCacheStore';

/**
 * Sessions' token caches in the table of the sessions, one row beside each session:
 *
 * | key          | value                                        | why                                   |
 * |--------------|----------------------------------------------|---------------------------------------|
 * | PartitionKey | the session's partition                      | created in the session's transaction; the cleanup that deletes old partitions deletes it too |
 * | RowKey       | `t.<SHA-256 of the session cookie's secret>` | a point read per token request        |
 * | `sealed`     | binary, AES-256-GCM (src/auth/tokenCacheCrypto) | the table alone decrypts nothing   |
 * | `leaseId`, `leaseUntilMs` | the refresh in progress, if any | ETag-conditional: one refresh per expiry |
 */

export const TOKEN_CACHE_PREFIX = 't.';
/** A point operation that takes longer than this is treated as storage being down. */
const OPERATION_TIMEOUT_MS = 5_000;

type TokenCacheEntity = {
  kind: 'tokens';
  sealed: Uint8Array;
  leaseId?: string;
  leaseUntilMs?: number;
};

/** The row a session's first token cache is created as (in the session's transaction). */
export function tokenCacheEntity(
  session: RecordKey,
  write: TokenCacheWrite,
): TableEntity<TokenCacheEntity> {
  return {
    partitionKey: session.partition,
    rowKey: TOKEN_CACHE_PREFIX + session.id,
    kind: 'tokens',
    sealed: write.sealed,
    // Replace writes every property: absent lease fields are how a lease is released.
    ...(write.lease ? { leaseId: write.lease.id, leaseUntilMs: write.lease.until.getTime() } : {}),
  };
}

export class TableTokenCacheStore implements TokenCacheStore {
  constructor(private readonly client: TableClient) {}

  async readTokenCache(session: RecordKey): Promise<StoredTokenCache | undefined> {
    try {
      const entity = await this.client.getEntity<TokenCacheEntity>(
        session.partition,
        TOKEN_CACHE_PREFIX + session.id,
        { abortSignal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) },
      );
      if (entity.kind !== 'tokens' || !(entity.sealed instanceof Uint8Array)) return undefined;
      return {
        sealed: entity.sealed,
        lease:
          entity.leaseId && typeof entity.leaseUntilMs === 'number'
            ? { id: entity.leaseId, until: new Date(entity.leaseUntilMs) }
            : undefined,
        version: entity.etag,
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw unavailable('read token cache', error);
    }
  }

  async replaceTokenCache(
    session: RecordKey,
    write: TokenCacheWrite,
    expectedVersion: string,
  ): Promise<string | undefined> {
    try {
      const response = await this.client.updateEntity(tokenCacheEntity(session, write), 'Replace', {
        etag: expectedVersion,
        abortSignal: AbortSignal.timeout(OPERATION_TIMEOUT_MS),
      });
      return response.etag;
    } catch (error) {
      // 412: another writer changed the row since it was read; 404: sign-out deleted it.
      if (statusOf(error) === 412 || statusOf(error) === 404) return undefined;
      throw unavailable('write token cache', error);
    }
  }

  async deleteTokenCache(session: RecordKey): Promise<void> {
    try {
      await this.client.deleteEntity(session.partition, TOKEN_CACHE_PREFIX + session.id, {
        abortSignal: AbortSignal.timeout(OPERATION_TIMEOUT_MS),
      });
    } catch (error) {
      if (statusOf(error) !== 404) throw unavailable('delete token cache', error);
    }
  }
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof RestError) return error.statusCode;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function unavailable(operation: string, error: unknown): AuthError {
  const why =
    error instanceof RestError
      ? `${error.statusCode ?? error.code ?? 'network error'} ${error.message.split('\n')[0]}`
      : error instanceof Error
        ? error.message
        : String(error);
  return new AuthError('storage_unavailable', `Table Storage ${operation} failed: ${why}`, {
    cause: error,
  });
}
