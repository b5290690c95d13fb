import {
  odata,
  RestError,
  TableClient,
  type TableEntity,
  type TableEntityResult,
  type TransactionAction,
} from '@azure/data-tables';
import { randomInt } from 'node:crypto';
import { AuthError } from '../../auth/errors';
import type {
  AuthStore,
  CleanupReport,
  RetentionPolicy,
  ConsumeOutcome,
  FlowRecord,
  RecordKey,
  SessionRecord,
  StoredFlow,
  UserClaims,
} from '../../ports/AuthStore';

/**
 * Flow records and sessions in one Azure table.
 *
 * | key          | value                                  | why                                          |
 * |--------------|----------------------------------------|----------------------------------------------|
 * | PartitionKey | `b<time bucket>-<shard 00..63>`        | spreads load over 64 partitions; time-ordered so expired ones are found by key range |
 * | RowKey flow  | `f.<flow id>` (from the state)         | point read at the callback                   |
 * | RowKey sess. | `s.<SHA-256 of the cookie secret>`     | point read; a leaked row is not a cookie     |
 *
 * A session is created in its flow's partition so that consuming the flow and creating the
 * session is one entity-group transaction.
 */

export const BUCKET_SECONDS = 10 * 60;
export const SHARDS = 64;
const FLOW_PREFIX = 'f.';
const SESSION_PREFIX = 's.';
const TRANSACTION_LIMIT = 100;

type FlowEntity = {
  kind: 'flow';
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  cookieHash: string;
  createdAtMs: number;
  expiresAtMs: number;
  consumedAtMs?: number;
};

type SessionEntity = {
  kind: 'session';
  user: string;
  createdAtMs: number;
  idleExpiresAtMs: number;
  absoluteExpiresAtMs: number;
};

export class TableAuthStore implements AuthStore {
  private tableReady?: Promise<void>;

  constructor(
    private readonly client: TableClient,
    private readonly retention: RetentionPolicy,
  ) {}

  partitionFor(createdAt: Date): string {
    return partitionKey(bucketOf(createdAt), randomInt(SHARDS));
  }

  async createFlow(flow: FlowRecord): Promise<void> {
    const entity: TableEntity<FlowEntity> = {
      partitionKey: flow.key.partition,
      rowKey: FLOW_PREFIX + flow.key.id,
      kind: 'flow',
      nonce: flow.nonce,
      codeVerifier: flow.codeVerifier,
      returnTo: flow.returnTo,
      cookieHash: flow.cookieHash,
      createdAtMs: flow.createdAt.getTime(),
      expiresAtMs: flow.expiresAt.getTime(),
    };
    await this.call('create flow', () => this.client.createEntity(entity));
  }

  async readFlow(key: RecordKey): Promise<StoredFlow | undefined> {
    const entity = await this.read<FlowEntity>('read flow', key.partition, FLOW_PREFIX + key.id);
    if (!entity || entity.kind !== 'flow') return undefined;
    return {
      version: entity.etag,
      flow: {
        key,
        nonce: entity.nonce,
        codeVerifier: entity.codeVerifier,
        returnTo: entity.returnTo,
        cookieHash: entity.cookieHash,
        createdAt: new Date(entity.createdAtMs),
        expiresAt: new Date(entity.expiresAtMs),
        consumedAt: entity.consumedAtMs === undefined ? undefined : new Date(entity.consumedAtMs),
      },
    };
  }

  async consumeFlow(
    stored: StoredFlow,
    consumedAt: Date,
    session?: SessionRecord,
  ): Promise<ConsumeOutcome> {
    const { key } = stored.flow;
    const consume: TransactionAction = [
      'update',
      {
        partitionKey: key.partition,
        rowKey: FLOW_PREFIX + key.id,
        consumedAtMs: consumedAt.getTime(),
      },
      'Merge',
      // ETag-conditional: of two concurrent callbacks, exactly one consumes the flow.
      { etag: stored.version },
    ];
    const actions: TransactionAction[] = [consume];
    if (session) {
      if (session.key.partition !== key.partition) {
        throw new Error('a session must live in the partition of the flow that creates it');
      }
      actions.push(['create', sessionEntity(session)]);
    }
    try {
      await this.call('consume flow', () => this.client.submitTransaction(actions));
      return 'consumed';
    } catch (error) {
      if (statusOf(error) === 412 || statusOf(error) === 404) return 'already_consumed';
      throw error;
    }
  }

  async readSession(key: RecordKey): Promise<SessionRecord | undefined> {
    const entity = await this.read<SessionEntity>(
      'read session',
      key.partition,
      SESSION_PREFIX + key.id,
    );
    if (!entity || entity.kind !== 'session') return undefined;
    return {
      key,
      user: JSON.parse(entity.user) as UserClaims,
      createdAt: new Date(entity.createdAtMs),
      idleExpiresAt: new Date(entity.idleExpiresAtMs),
      absoluteExpiresAt: new Date(entity.absoluteExpiresAtMs),
    };
  }

  async extendSession(key: RecordKey, idleExpiresAt: Date): Promise<void> {
    try {
      // Merge without upsert: a session deleted meanwhile (logout) stays deleted.
      await this.call('extend session', () =>
        this.client.updateEntity(
          {
            partitionKey: key.partition,
            rowKey: SESSION_PREFIX + key.id,
            idleExpiresAtMs: idleExpiresAt.getTime(),
          },
          'Merge',
        ),
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  async deleteSession(key: RecordKey): Promise<void> {
    try {
      await this.call('delete session', () =>
        this.client.deleteEntity(key.partition, SESSION_PREFIX + key.id),
      );
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /**
   * Two key-range queries, no table scan: every row of partitions past both horizons, and the
   * flow rows of younger partitions past the flow horizon.
   */
  async deleteExpired(now: Date): Promise<CleanupReport> {
    const { flowTtlSeconds, flowRetentionSeconds, sessionAbsoluteSeconds } = this.retention;
    // A partition's bucket ends BUCKET_SECONDS after it starts; a session may be created up to
    // a flow TTL after its flow.
    const nowSeconds = now.getTime() / 1000;
    const flowHorizon =
      bucketOf(new Date((nowSeconds - flowTtlSeconds - flowRetentionSeconds) * 1000)) - 1;
    const sessionHorizon =
      bucketOf(new Date((nowSeconds - flowTtlSeconds - sessionAbsoluteSeconds) * 1000)) - 1;
    // A partition goes whole once both its flows and its sessions are past their horizons.
    const wholeHorizon = Math.min(flowHorizon, sessionHorizon);
    const wholeBoundary = partitionKey(wholeHorizon + 1, 0);
    const report: CleanupReport = { flowsDeleted: 0, sessionsDeleted: 0, partitionsVisited: 0 };
    const partitions = new Set<string>();
    await this.deletePageByPage(
      odata`PartitionKey ge ${'b'} and PartitionKey lt ${wholeBoundary}`,
      report,
      partitions,
    );
    // Younger partitions lose only their flow rows (their sessions may still be live).
    if (flowHorizon > wholeHorizon) {
      await this.deletePageByPage(
        odata`PartitionKey ge ${wholeBoundary} and PartitionKey lt ${partitionKey(flowHorizon + 1, 0)} and RowKey ge ${FLOW_PREFIX} and RowKey lt ${'f/'}`,
        report,
        partitions,
      );
    }
    report.partitionsVisited = partitions.size;
    return report;
  }

  /**
   * Deletes what the query finds one page at a time, so a backlog (say, after a flood of
   * abandoned logins) never has to fit in memory. Continuation is by key, so deleting rows
   * already returned does not disturb the paging.
   */
  private async deletePageByPage(
    filter: string,
    report: CleanupReport,
    partitions: Set<string>,
  ): Promise<void> {
    const pages = this.client
      .listEntities({ queryOptions: { filter, select: ['PartitionKey', 'RowKey'] } })
      .byPage({ maxPageSize: 1000 });
    for (;;) {
      const page = await this.call('list expired', () => pages.next());
      if (page.done) return;
      const byPartition = new Map<string, string[]>();
      for (const entity of page.value) {
        const partition = entity.partitionKey as string;
        let rowKeys = byPartition.get(partition);
        if (!rowKeys) byPartition.set(partition, (rowKeys = []));
        rowKeys.push(entity.rowKey as string);
      }
      for (const [partition, rowKeys] of byPartition) {
        partitions.add(partition);
        for (let i = 0; i < rowKeys.length; i += TRANSACTION_LIMIT) {
          const batch = rowKeys.slice(i, i + TRANSACTION_LIMIT);
          await this.deleteBatch(partition, batch);
          report.flowsDeleted += batch.filter((k) => k.startsWith(FLOW_PREFIX)).length;
          report.sessionsDeleted += batch.filter((k) => k.startsWith(SESSION_PREFIX)).length;
        }
      }
    }
  }

  private async deleteBatch(partition: string, rowKeys: string[]): Promise<void> {
    try {
      await this.call('delete expired', () =>
        this.client.submitTransaction(
          rowKeys.map((rowKey) => ['delete', { partitionKey: partition, rowKey }]),
        ),
      );
    } catch (error) {
      // A row deleted meanwhile (logout) fails the whole batch: delete one by one instead.
      if (statusOf(error) !== 404) throw error;
      for (const rowKey of rowKeys) {
        await this.client.deleteEntity(partition, rowKey).catch((e: unknown) => {
          if (statusOf(e) !== 404) throw e;
        });
      }
    }
  }

  private async read<T extends object>(
    operation: string,
    partition: string,
    rowKey: string,
  ): Promise<TableEntityResult<T> | undefined> {
    try {
      return await this.call(operation, () => this.client.getEntity<T>(partition, rowKey));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /**
   * Runs a table operation, creating the table on first use (once per process, not per
   * request). Unreachable storage becomes storage_unavailable; 404/412 stay for the caller.
   */
  private async call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      await this.ensureTable();
      try {
        return await run();
      } catch (error) {
        // The table vanished (deleted, or a fresh Azurite): create it again, once.
        if (codeOf(error) !== 'TableNotFound') throw error;
        this.tableReady = undefined;
        await this.ensureTable();
        return await run();
      }
    } catch (error) {
      const status = statusOf(error);
      if (status === 404 || status === 412) throw error;
      throw new AuthError(
        'storage_unavailable',
        `Table Storage ${operation} failed: ${describe(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  private ensureTable(): Promise<void> {
    // createTable treats "already exists" as success, so this is idempotent across instances.
    this.tableReady ??= this.client.createTable().catch((error: unknown) => {
      this.tableReady = undefined; // try again on the next request
      throw error;
    });
    return this.tableReady;
  }
}

function sessionEntity(session: SessionRecord): TableEntity<SessionEntity> {
  return {
    partitionKey: session.key.partition,
    rowKey: SESSION_PREFIX + session.key.id,
    kind: 'session',
    user: JSON.stringify(session.user),
    createdAtMs: session.createdAt.getTime(),
    idleExpiresAtMs: session.idleExpiresAt.getTime(),
    absoluteExpiresAtMs: session.absoluteExpiresAt.getTime(),
  };
}

export function bucketOf(time: Date): number {
  return Math.floor(time.getTime() / 1000 / BUCKET_SECONDS);
}

export function partitionKey(bucket: number, shard: number): string {
  return `b${String(bucket).padStart(10, '0')}-${String(shard).padStart(2, '0')}`;
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof RestError) return error.statusCode;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

function codeOf(error: unknown): string | undefined {
  if (error instanceof RestError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describe(error: unknown): string {
  if (error instanceof RestError)
    return `${error.statusCode ?? error.code ?? 'network error'} ${error.message.split('\n')[0]}`;
  return error instanceof Error ? error.message : String(error);
}
