import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { TableRequests } from '../../src/adapters/tables/tableRequests';
import { serviceCodeOf, statusOf } from '../../src/adapters/tables/tableErrors';
import { isolatedTableClient, startTestAzurite } from '../support/azurite';

let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
const options = () => ({ abortSignal: AbortSignal.timeout(5_000) });

beforeAll(async () => {
  azurite = await startTestAzurite();
});
afterAll(async () => {
  await azurite?.process.stop();
});

async function tableWithRequests() {
  const client = isolatedTableClient(azurite.tableConnectionString);
  await client.createTable();
  return { client, requests: new TableRequests(client) };
}

describe('TableRequests against Azurite, beside the SDK', () => {
  it('when a row is inserted, then the SDK reads what was written and the point read answers as getEntity does', async () => {
    const { client, requests } = await tableWithRequests();
    const row = {
      partitionKey: "b0000000001-07 o'clock",
      rowKey: 's.abc%20+=',
      text: 'Adele "Vance" ü',
      count: 1_764_639_196_372,
      small: 7,
      flag: true,
      bytes: new Uint8Array([0, 1, 254, 255]),
    };
    await requests.insert(row, options());
    const bySdk = await client.getEntity(row.partitionKey, row.rowKey);
    expect(bySdk).toMatchObject(row);
    const byRequests = await requests.pointRead(row.partitionKey, row.rowKey, options());
    expect(byRequests).toEqual({ ...bySdk, 'odata.metadata': undefined });
    expect(await requests.pointRead(row.partitionKey, 'missing', options())).toBeUndefined();
  });

  it('when a transaction merges and inserts, then all land; when a step fails, none land and its status and code say which', async () => {
    const { client, requests } = await tableWithRequests();
    await client.createEntity({ partitionKey: 'p', rowKey: 'f.1', kind: 'flow' });
    const { etag } = await client.getEntity('p', 'f.1');
    await requests.transaction(
      [
        { kind: 'merge', entity: { partitionKey: 'p', rowKey: 'f.1', consumedAtMs: 5 }, etag },
        { kind: 'insert', entity: { partitionKey: 'p', rowKey: 's.1', user: '{}' } },
      ],
      options(),
    );
    expect(await client.getEntity('p', 'f.1')).toMatchObject({ kind: 'flow', consumedAtMs: 5 });
    expect(await client.getEntity('p', 's.1')).toMatchObject({ user: '{}' });

    // The old etag again: the merge fails, and the insert beside it does not happen either.
    const stale = requests.transaction(
      [
        { kind: 'merge', entity: { partitionKey: 'p', rowKey: 'f.1', consumedAtMs: 6 }, etag },
        { kind: 'insert', entity: { partitionKey: 'p', rowKey: 's.2', user: '{}' } },
      ],
      options(),
    );
    const error = await stale.catch((e: unknown) => e);
    expect([statusOf(error), serviceCodeOf(error)]).toEqual([412, 'UpdateConditionNotSatisfied']);
    expect(await requests.pointRead('p', 's.2', options())).toBeUndefined();

    const duplicate = await requests
      .transaction(
        [
          { kind: 'insert', entity: { partitionKey: 'p', rowKey: 's.3', user: '{}' } },
          { kind: 'insert', entity: { partitionKey: 'p', rowKey: 's.1', user: '{}' } },
        ],
        options(),
      )
      .catch((e: unknown) => e);
    expect([statusOf(duplicate), serviceCodeOf(duplicate)]).toEqual([409, 'EntityAlreadyExists']);
    expect(await requests.pointRead('p', 's.3', options())).toBeUndefined();
  });

  it('when a value holds U+2028 or U+2029, then a transaction still lands it and it reads back unchanged', async () => {
    // A display name pasted with a line separator: Azurite's batch parser split the step on it
    // and failed the whole sign-in with 400 while the same JSON was a valid insert.
    const { requests } = await tableWithRequests();
    const claims = JSON.stringify({ name: 'Adele\u2028Vance\u2029' });
    await requests.transaction(
      [{ kind: 'insert', entity: { partitionKey: 'p', rowKey: 's.1', claims } }],
      options(),
    );
    await requests.insert({ partitionKey: 'p', rowKey: 's.2', claims }, options());
    for (const rowKey of ['s.1', 's.2'])
      expect(await requests.pointRead('p', rowKey, options())).toMatchObject({ claims });
  });

  it('when the table is missing or the row exists, then the errors carry the status and code the SDK gives', async () => {
    const client = isolatedTableClient(azurite.tableConnectionString);
    const requests = new TableRequests(client);
    const missingTable = await requests
      .insert({ partitionKey: 'p', rowKey: 'r' }, options())
      .catch((e: unknown) => e);
    const bySdk = await client.createEntity({ partitionKey: 'p', rowKey: 'r' }).catch((e) => e);
    expect([statusOf(missingTable), serviceCodeOf(missingTable)]).toEqual([
      statusOf(bySdk),
      serviceCodeOf(bySdk),
    ]);
    expect(serviceCodeOf(missingTable)).toBe('TableNotFound');
    await client.createTable();
    await requests.insert({ partitionKey: 'p', rowKey: 'r' }, options());
    const exists = await requests
      .insert({ partitionKey: 'p', rowKey: 'r' }, options())
      .catch((e: unknown) => e);
    expect([statusOf(exists), serviceCodeOf(exists)]).toEqual([409, 'EntityAlreadyExists']);
  });

  it('when a value is of a kind the SDK would annotate otherwise, then it is refused before anything is sent', async () => {
    const { requests } = await tableWithRequests();
    await expect(
      requests.insert({ partitionKey: 'p', rowKey: 'r', when: new Date() }, options()),
    ).rejects.toThrow(TypeError);
  });

  it('when the storage URL is plain http beyond loopback, then nothing is sent', async () => {
    const client = new TableClient(
      'http://192.0.2.1:10002/devstoreaccount1',
      'auth',
      new AzureNamedKeyCredential('devstoreaccount1', Buffer.from('key').toString('base64')),
      { allowInsecureConnection: true, retryOptions: { maxRetries: 0 } },
    );
    await expect(new TableRequests(client).pointRead('p', 'r', options())).rejects.toThrow(
      /allowInsecureConnection/,
    );
  });
});
