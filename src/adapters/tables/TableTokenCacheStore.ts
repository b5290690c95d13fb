import type { TableClient, TableEntity } from '@azure/data-tables';
import type { RecordKey } from '../../ports/AuthStore';
import type {
  StoredTokenCache,
  TokenCacheStore,
  TokenCacheWrite,
} from '../../ports/TokenCacheStore';
import { BoundedTableOperations } from './BoundedTableOperations';
import { statusOf } from './tableErrors';

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
  private readonly operations: BoundedTableOperations;

  constructor(
    private readonly client: TableClient,
    options: { operationTimeoutMs: number },
  ) {
    this.operations = new BoundedTableOperations(client, options.operationTimeoutMs);
  }

  async readTokenCache(session: RecordKey): Promise<StoredTokenCache | undefined> {
    const entity = await this.operations.pointRead<TokenCacheEntity>(
      'read token cache',
      session.partition,
      TOKEN_CACHE_PREFIX + session.id,
    );
    if (entity?.kind !== 'tokens' || !(entity.sealed instanceof Uint8Array)) return undefined;
    return {
      sealed: entity.sealed,
      lease:
        entity.leaseId && typeof entity.leaseUntilMs === 'number'
          ? { id: entity.leaseId, until: new Date(entity.leaseUntilMs) }
          : undefined,
      version: entity.etag,
    };
  }

  async replaceTokenCache(
    session: RecordKey,
    write: TokenCacheWrite,
    expectedVersion: string,
  ): Promise<string | undefined> {
    try {
      const response = await this.operations.run('write token cache', (options) =>
        this.client.updateEntity(tokenCacheEntity(session, write), 'Replace', {
          ...options,
          etag: expectedVersion,
        }),
      );
      return response.etag;
    } catch (error) {
      // 412: another writer changed the row since it was read; 404: sign-out deleted it.
      if (statusOf(error) === 412 || statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  deleteTokenCache(session: RecordKey): Promise<void> {
    return this.operations.deleteRow(
      'delete token cache',
      session.partition,
      TOKEN_CACHE_PREFIX + session.id,
    );
  }
}
