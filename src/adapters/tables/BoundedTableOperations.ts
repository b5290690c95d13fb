import type { TableClient, TableEntityResult } from '@azure/data-tables';
import { AuthError } from '../../auth/errors';
import { describe, isAbort, serviceCodeOf, statusOf } from './tableErrors';
import { TableRequests } from './tableRequests';

/** Statuses the caller decides about (missing, exists, changed); all else is an outage. */
const PASSED_THROUGH = new Set([404, 409, 412]);
/** A 409 about the table, not the row: storage is unusable until the deletion ends (~40 s). */
const TABLE_BEING_DELETED = 'TableBeingDeleted';

/**
 * Whether the table exists is a fact about the client's table, not about one store: the flow,
 * token-cache and session-groups stores share a client, so they share this, and a fresh process
 * creates the table once, not once per store.
 */
const tablesReady = new WeakMap<TableClient, Promise<void>>();
/** ...and so do they their REST calls, over one keep-alive pool per client. */
const requestsOf = new WeakMap<TableClient, TableRequests>();

/** What each SDK call is given: the signal that ends it at the operation's deadline. */
export type OperationOptions = { abortSignal: AbortSignal };

/**
 * Table operations within a time budget each (AUTH_STORAGE_TIMEOUT_MS, the SDK's own retries
 * included: they multiply a hung call's time otherwise), creating the table on first use and
 * again if it vanished (deleted, or a fresh storage account). Unreachable or slow storage
 * becomes storage_unavailable; 404, 409 and 412 stay for the caller (but a table being deleted
 * is an outage).
 */
export class BoundedTableOperations {
  constructor(
    private readonly client: TableClient,
    readonly budgetMs: number,
  ) {}

  /** The client's calls as plain REST (see tableRequests.ts), shared by the stores on it. */
  get requests(): TableRequests {
    let requests = requestsOf.get(this.client);
    if (!requests) requestsOf.set(this.client, (requests = new TableRequests(this.client)));
    return requests;
  }

  /** The row, or undefined when it (or the table) is missing. */
  pointRead<T extends object>(
    operation: string,
    partition: string,
    rowKey: string,
  ): Promise<TableEntityResult<T> | undefined> {
    return this.run(operation, (o) => this.requests.pointRead<T>(partition, rowKey, o), {
      read: true,
    });
  }

  /** Deletes the row; one already gone (signed out elsewhere, cleaned up) is not an error. */
  async deleteRow(operation: string, partition: string, rowKey: string): Promise<void> {
    try {
      await this.run(operation, (o) => this.client.deleteEntity(partition, rowKey, o));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  /**
   * `read`: a point read needs no table up front (a missing table is a 404 like a missing row),
   * which saves a process's first request the createTable round trip.
   */
  async run<T>(
    operation: string,
    call: (options: OperationOptions) => Promise<T>,
    { read = false } = {},
  ): Promise<T> {
    const abortSignal = AbortSignal.timeout(this.budgetMs);
    try {
      if (!read) await untilAborted(this.ensureTable(), abortSignal);
      try {
        return await untilAborted(call({ abortSignal }), abortSignal);
      } catch (error) {
        if (read || serviceCodeOf(error) !== 'TableNotFound') throw error;
        tablesReady.delete(this.client);
        await untilAborted(this.ensureTable(), abortSignal);
        return await untilAborted(call({ abortSignal }), abortSignal);
      }
    } catch (error) {
      const status = statusOf(error);
      if (
        !isAbort(error) &&
        status !== undefined &&
        PASSED_THROUGH.has(status) &&
        serviceCodeOf(error) !== TABLE_BEING_DELETED
      )
        throw error;
      const why = isAbort(error)
        ? `did not finish within ${this.budgetMs} ms (AUTH_STORAGE_TIMEOUT_MS)`
        : `failed: ${describe(error)}`;
      throw new AuthError('storage_unavailable', `Table Storage ${operation} ${why}`, {
        cause: error,
      });
    }
  }

  private ensureTable(): Promise<void> {
    // createTable treats "already exists" as success, so this is idempotent across instances.
    let ready = tablesReady.get(this.client);
    if (!ready) {
      ready = this.client
        .createTable({ abortSignal: AbortSignal.timeout(this.budgetMs) })
        .catch((error: unknown) => {
          // Try again on the next request (unless a newer attempt has taken this one's place).
          if (tablesReady.get(this.client) === ready) tablesReady.delete(this.client);
          throw error;
        });
      tablesReady.set(this.client, ready);
    }
    return ready;
  }
}

/** The promise, or the signal's reason once it fires first: a bound even where a call ignores it. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
