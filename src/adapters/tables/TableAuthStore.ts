import { odata, TableClient, type TableEntityResult } from '@azure/data-tables';
import { randomInt } from 'node:crypto';
import { DEFAULT_STORAGE_TIMEOUT_MS } from '../../config';
import type {
  AuthStore,
  CleanupReport,
  RetentionPolicy,
  ConsumeOutcome,
  FlowRecord,
  RecordKey,
  SessionRecord,
  StoredFlow,
} from '../../ports/AuthStore';
import { FreshReads } from '../../auth/freshReads';
import { SingleFlight } from '../../auth/singleFlight';
import { BoundedTableOperations } from './BoundedTableOperations';
import type { TransactionStep } from './tableRequests';
import {
  FLOW_PREFIX,
  flowEntity,
  flowOf,
  SESSION_PREFIX,
  sessionEntity,
  sessionOf,
  type FlowEntity,
  type SessionEntity,
} from './tableEntities';
import { statusOf } from './tableErrors';
import { tokenCacheEntity } from './TableTokenCacheStore';

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
const TRANSACTION_LIMIT = 100;
/** A cleanup run may page through a backlog for this many operation budgets. */
const CLEANUP_BUDGETS = 20;

export interface TableStoreOptions {
  /** The whole time one operation may take, the SDK's own retries included. */
  operationTimeoutMs: number;
}

export class TableAuthStore implements AuthStore {
  private readonly operations: BoundedTableOperations;
  /** A page's parallel calls (or an API client's) with one cookie share their reads. */
  private readonly sessionReads = new FreshReads<TableEntityResult<SessionEntity> | undefined>();
  /** ...and the idle-expiry write they would each make when it is due. */
  private readonly sessionExtensions = new SingleFlight();

  constructor(
    private readonly client: TableClient,
    private readonly retention: RetentionPolicy,
    options: TableStoreOptions = { operationTimeoutMs: DEFAULT_STORAGE_TIMEOUT_MS },
  ) {
    this.operations = new BoundedTableOperations(client, options.operationTimeoutMs);
  }

  partitionFor(createdAt: Date): string {
    return partitionKey(bucketOf(createdAt), randomInt(SHARDS));
  }

  async createFlow(flow: FlowRecord): Promise<void> {
    const entity = flowEntity(flow);
    try {
      await this.operations.run('create flow', (o) => this.operations.requests.insert(entity, o));
    } catch (error) {
      // The flow id is 128 random bits: "already exists" is the SDK retrying our own write
      // whose first answer was lost.
      if (statusOf(error) !== 409) throw error;
    }
  }

  async readFlow(key: RecordKey): Promise<StoredFlow | undefined> {
    const entity = await this.operations.pointRead<FlowEntity>(
      'read flow',
      key.partition,
      FLOW_PREFIX + key.id,
    );
    if (!entity || entity.kind !== 'flow') return undefined;
    return { version: entity.etag, flow: flowOf(key, entity) };
  }

  async consumeFlow(
    stored: StoredFlow,
    consumedAt: Date,
    session?: SessionRecord,
  ): Promise<ConsumeOutcome> {
    const { key } = stored.flow;
    const steps: TransactionStep[] = [
      {
        kind: 'merge',
        entity: {
          partitionKey: key.partition,
          rowKey: FLOW_PREFIX + key.id,
          consumedAtMs: consumedAt.getTime(),
          ...(session ? { sessionId: session.key.id } : {}),
        },
        // ETag-conditional: of two concurrent callbacks, exactly one consumes the flow.
        etag: stored.version,
      },
    ];
    if (session) {
      if (session.key.partition !== key.partition) {
        throw new Error('a session must live in the partition of the flow that creates it');
      }
      steps.push({ kind: 'insert', entity: sessionEntity(session) });
      // The session's token cache row is born with it, in the same transaction.
      if (session.tokenCache) {
        steps.push({ kind: 'insert', entity: tokenCacheEntity(session.key, session.tokenCache) });
      }
    }
    try {
      await this.operations.run('consume flow', (o) =>
        this.operations.requests.transaction(steps, o),
      );
      return 'consumed';
    } catch (error) {
      const status = statusOf(error);
      if (status !== 412 && status !== 404) throw error;
      // The SDK retried this very transaction after its first answer was lost: the session it
      // creates has a fresh random key, so finding it proves the transaction committed.
      if (session && (await this.readSession(session.key))) return 'consumed';
      return 'already_consumed';
    }
  }

  async readSession(key: RecordKey): Promise<SessionRecord | undefined> {
    const rowKey = SESSION_PREFIX + key.id;
    const entity = await this.sessionReads.read(`${key.partition}/${rowKey}`, () =>
      this.operations.pointRead<SessionEntity>('read session', key.partition, rowKey),
    );
    // The row is shared; each caller gets a record of its own, so no handler sees another's edits.
    if (!entity || entity.kind !== 'session') return undefined;
    return sessionOf(key, entity);
  }

  extendSession(key: RecordKey, idleExpiresAt: Date): Promise<void> {
    const rowKey = SESSION_PREFIX + key.id;
    // Concurrent extensions of one session are milliseconds apart: one write serves them all.
    return this.sessionExtensions.run(`${key.partition}/${rowKey}`, async () => {
      try {
        // Merge without upsert: a session deleted meanwhile (logout) stays deleted.
        await this.operations.run('extend session', (o) =>
          this.client.updateEntity(
            { partitionKey: key.partition, rowKey, idleExpiresAtMs: idleExpiresAt.getTime() },
            'Merge',
            o,
          ),
        );
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    });
  }

  deleteSession(key: RecordKey): Promise<void> {
    return this.operations.deleteRow('delete session', key.partition, SESSION_PREFIX + key.id);
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
      .listEntities({
        queryOptions: { filter, select: ['PartitionKey', 'RowKey'] },
        abortSignal: AbortSignal.timeout(CLEANUP_BUDGETS * this.operations.budgetMs),
      })
      .byPage({ maxPageSize: 1000 });
    for (;;) {
      const page = await this.operations.run('list expired', () => pages.next());
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
      await this.operations.run('delete expired', (o) =>
        this.client.submitTransaction(
          rowKeys.map((rowKey) => ['delete', { partitionKey: partition, rowKey }]),
          o,
        ),
      );
    } catch (error) {
      // A row deleted meanwhile (logout) fails the whole batch: delete one by one instead.
      if (statusOf(error) !== 404) throw error;
      for (const rowKey of rowKeys) {
        await this.operations.deleteRow('delete expired', partition, rowKey);
      }
    }
  }
}

export function bucketOf(time: Date): number {
  return Math.floor(time.getTime() / 1000 / BUCKET_SECONDS);
}

export function partitionKey(bucket: number, shard: number): string {
  return `b${String(bucket).padStart(10, '0')}-${String(shard).padStart(2, '0')}`;
}
