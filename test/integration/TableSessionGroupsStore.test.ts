import { randomUUID } from 'node:crypto';
import { TableAuthStore } from '../../src/adapters/tables/TableAuthStore';
import {
  encodeGroups,
  MAX_STORED_GROUPS,
  TableSessionGroupsStore,
} from '../../src/adapters/tables/TableSessionGroupsStore';
import { isolatedTableClient, startTestAzurite } from '../support/azurite';

/** The groups row beside a session, on Azurite: whatever the count, it fits one entity. */

let azurite: Awaited<ReturnType<typeof startTestAzurite>>;
let store: TableSessionGroupsStore;
let authStore: TableAuthStore;

beforeAll(async () => {
  azurite = await startTestAzurite();
  const client = isolatedTableClient(azurite.tableConnectionString);
  await client.createTable();
  store = new TableSessionGroupsStore(client, { operationTimeoutMs: 10_000 });
  authStore = new TableAuthStore(client, {
    flowTtlSeconds: 600,
    flowRetentionSeconds: 3600,
    sessionAbsoluteSeconds: 28800,
  });
});
afterAll(async () => {
  await azurite?.process.stop();
});

const key = () => ({ partition: 'b0000000001-00', id: randomUUID().replaceAll('-', '') });
const groups = (count: number) => Array.from({ length: count }, () => randomUUID());

describe('TableSessionGroupsStore on Azurite', () => {
  it('when 5,000 groups are written, then they read back exactly, in order', async () => {
    const session = key();
    const groupIds = groups(5000);
    const resolvedAt = new Date('2026-12-01T10:00:00Z');
    await store.writeSessionGroups(session, { groupIds, resolvedAt });
    expect(await store.readSessionGroups(session)).toEqual({ groupIds, resolvedAt });
  });

  it('when the most a row holds is written, then Table Storage takes it (under 1 MiB, 64 KiB a property)', async () => {
    const session = key();
    const groupIds = groups(MAX_STORED_GROUPS);
    await store.writeSessionGroups(session, { groupIds, resolvedAt: new Date() });
    expect((await store.readSessionGroups(session))?.groupIds).toEqual(groupIds);
  });

  it('when written again, then the new list replaces the old one', async () => {
    const session = key();
    await store.writeSessionGroups(session, { groupIds: groups(4001), resolvedAt: new Date() });
    const fewer = groups(3);
    await store.writeSessionGroups(session, { groupIds: fewer, resolvedAt: new Date() });
    expect((await store.readSessionGroups(session))?.groupIds).toEqual(fewer);
  });

  it('when deleted (or never written), then nothing is read, and deleting again is fine', async () => {
    const session = key();
    expect(await store.readSessionGroups(session)).toBeUndefined();
    await store.writeSessionGroups(session, { groupIds: groups(2), resolvedAt: new Date() });
    await store.deleteSessionGroups(session);
    await store.deleteSessionGroups(session);
    expect(await store.readSessionGroups(session)).toBeUndefined();
  });

  it("when the cleanup timer deletes a session's partition, then its groups row goes with it, and a live one stays", async () => {
    const now = new Date();
    const old = {
      partition: authStore.partitionFor(new Date(now.getTime() - 10 * 3600_000)),
      id: 'old',
    };
    const live = { partition: authStore.partitionFor(now), id: 'live' };
    await store.writeSessionGroups(old, { groupIds: groups(3), resolvedAt: now });
    await store.writeSessionGroups(live, { groupIds: groups(3), resolvedAt: now });
    await authStore.deleteExpired(now);
    expect(await store.readSessionGroups(old)).toBeUndefined();
    expect((await store.readSessionGroups(live))?.groupIds).toHaveLength(3);
  });

  it('when its table does not exist yet, then a read answers "none" without creating it (one round trip)', async () => {
    const client = isolatedTableClient(azurite.tableConnectionString);
    const fresh = new TableSessionGroupsStore(client, { operationTimeoutMs: 10_000 });
    expect(await fresh.readSessionGroups(key())).toBeUndefined();
    const tables = client.listEntities().byPage().next();
    await expect(tables).rejects.toMatchObject({ statusCode: 404 });
  });

  it('when more groups than a row holds, or an id that is not a GUID, then it refuses to encode', () => {
    expect(() => encodeGroups(groups(MAX_STORED_GROUPS + 1))).toThrow(/more than a row holds/);
    expect(() => encodeGroups(['not-a-guid'])).toThrow(/not a GUID/);
  });
});
