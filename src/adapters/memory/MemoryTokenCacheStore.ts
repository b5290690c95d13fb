import type { RecordKey } from '../../ports/AuthStore';
import type {
  StoredTokenCache,
  TokenCacheStore,
  TokenCacheWrite,
} from '../../ports/TokenCacheStore';

/** In-process TokenCacheStore for unit tests: versions play the ETags. */
export class MemoryTokenCacheStore implements TokenCacheStore {
  private readonly records = new Map<string, { write: TokenCacheWrite; version: number }>();
  private nextVersion = 1;
  /** For tests: how many reads and writes (lease, result) were made. */
  reads = 0;
  writes = 0;

  /** Creates the record, as the session's creation does (MemoryAuthStore.consumeFlow). */
  create(session: RecordKey, sealed: Uint8Array): void {
    const id = keyOf(session);
    if (this.records.has(id)) throw new Error(`token cache ${id} exists`);
    this.records.set(id, {
      write: { sealed: new Uint8Array(sealed) },
      version: this.nextVersion++,
    });
  }

  async readTokenCache(session: RecordKey): Promise<StoredTokenCache | undefined> {
    this.reads++;
    const record = this.records.get(keyOf(session));
    if (!record) return undefined;
    const { sealed, lease } = record.write;
    return {
      sealed: new Uint8Array(sealed),
      lease: lease && { id: lease.id, until: new Date(lease.until) },
      version: String(record.version),
    };
  }

  async replaceTokenCache(
    session: RecordKey,
    write: TokenCacheWrite,
    expectedVersion: string,
  ): Promise<string | undefined> {
    const record = this.records.get(keyOf(session));
    if (!record || String(record.version) !== expectedVersion) return undefined;
    record.write = {
      sealed: new Uint8Array(write.sealed),
      lease: write.lease && { ...write.lease },
    };
    record.version = this.nextVersion++;
    this.writes++;
    return String(record.version);
  }

  async deleteTokenCache(session: RecordKey): Promise<void> {
    this.records.delete(keyOf(session));
  }
}

function keyOf(key: RecordKey): string {
  return `${key.partition}\n${key.id}`;
}
