import { RestError } from '@azure/core-rest-pipeline';
import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { BoundedTableOperations } from '../../../src/adapters/tables/BoundedTableOperations';

/** A TableClient stand-in that counts createTable calls and can fail the next one. */
function countingClient() {
  const client = {
    created: 0,
    failNext: false,
    async createTable() {
      client.created++;
      if (client.failNext) {
        client.failNext = false;
        throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      }
    },
  };
  return client;
}

const write = (operations: BoundedTableOperations) => operations.run('write', async () => 'done');

describe('BoundedTableOperations', () => {
  it('when several stores share one client, then a fresh process creates the table once', async () => {
    const client = countingClient();
    const stores = [1, 2, 3].map(
      () => new BoundedTableOperations(client as unknown as TableClient, 1_000),
    );
    await Promise.all(stores.map(write));
    await Promise.all(stores.map(write));
    expect(client.created).toBe(1);
  });

  it('when creating the table fails, then the next write tries again', async () => {
    const client = countingClient();
    client.failNext = true;
    const operations = new BoundedTableOperations(client as unknown as TableClient, 1_000);
    await expect(write(operations)).rejects.toMatchObject({ code: 'storage_unavailable' });
    await expect(write(operations)).resolves.toBe('done');
    expect(client.created).toBe(2);
  });

  it('when the table vanished, then it is created again and the write retried once', async () => {
    const client = countingClient();
    const operations = new BoundedTableOperations(client as unknown as TableClient, 1_000);
    await write(operations);
    let calls = 0;
    const answer = await operations.run('write', async () => {
      if (calls++ === 0) throw Object.assign(new Error('gone'), { code: 'TableNotFound' });
      return 'again';
    });
    expect([answer, calls, client.created]).toEqual(['again', 2, 2]);
  });
  it('when the table is being deleted, then a write is storage_unavailable that says so, not a 409 its caller reads as "the row exists"', async () => {
    const beingDeleted = () =>
      new RestError('The specified table is being deleted.', {
        statusCode: 409,
        code: 'TableBeingDeleted',
      });
    const client = countingClient();
    client.createTable = async () => {
      client.created++;
      throw beingDeleted();
    };
    const operations = new BoundedTableOperations(client as unknown as TableClient, 1_000);
    const failed = await write(operations).catch((e: unknown) => e as Error);
    expect(failed).toMatchObject({ code: 'storage_unavailable' });
    expect((failed as Error).message).toMatch(/409 .*table is being deleted/);
    const read = operations.run('read', () => Promise.reject(beingDeleted()), { read: true });
    await expect(read).rejects.toMatchObject({ code: 'storage_unavailable' });
    // An insert's own "already exists" still reaches the caller as the 409 it is.
    const exists = new RestError('exists', { statusCode: 409, code: 'EntityAlreadyExists' });
    const healthy = new BoundedTableOperations(countingClient() as unknown as TableClient, 1_000);
    const insert = healthy.run('insert', () => Promise.reject(exists));
    await expect(insert).rejects.toBe(exists);
  });

  it('when storage refuses the identity (no role assignment), then the message names the service code, the rest redacted', async () => {
    const signature = randomBytes(32).toString('base64');
    const refused = new RestError(
      `This request is not authorized to perform this operation using this permission. sig=${signature}`,
      { statusCode: 403 },
    );
    // Point operations keep the service's code in details (serviceCodeOf).
    Object.assign(refused, { details: { errorCode: 'AuthorizationPermissionMismatch' } });
    const operations = new BoundedTableOperations(
      countingClient() as unknown as TableClient,
      1_000,
    );
    const failed = await operations
      .run('read', () => Promise.reject(refused), { read: true })
      .catch((e: unknown) => e as Error);
    expect(failed).toMatchObject({ code: 'storage_unavailable' });
    expect(failed.message).toContain(
      '403 AuthorizationPermissionMismatch This request is not authorized',
    );
    expect(failed.message).not.toContain(signature);
  });
});
