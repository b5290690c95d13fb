import { TableAuthStore, SHARDS } from '../../src/adapters/tables/TableAuthStore';
import { describeAuthStoreContract } from '../contract/authStoreContract';
import { isolatedTableClient, startTestAzurite } from '../support/azurite';

const retention = {
  flowTtlSeconds: 600,
  flowRetentionSeconds: 3600,
  sessionAbsoluteSeconds: 28800,
};
let azurite: Awaited<ReturnType<typeof startTestAzurite>>;

beforeAll(async () => {
  azurite = await startTestAzurite();
});
afterAll(async () => {
  await azurite?.process.stop();
});

describeAuthStoreContract('TableAuthStore on Azurite', async () => ({
  store: new TableAuthStore(isolatedTableClient(azurite.tableConnectionString), retention),
  retention,
}));

describe('TableAuthStore key design', () => {
  it('when many flows are created at one instant, then they spread over the shards of one time bucket', () => {
    const store = new TableAuthStore(isolatedTableClient(azurite.tableConnectionString), retention);
    const now = new Date();
    const partitions = new Set(Array.from({ length: 2000 }, () => store.partitionFor(now)));
    expect(partitions.size).toBe(SHARDS);
    const buckets = new Set([...partitions].map((p) => p.split('-')[0]));
    expect(buckets.size).toBe(1);
  });

  it('when partitions of later buckets are compared, then they sort after earlier ones (cleanup by key range)', () => {
    const store = new TableAuthStore(isolatedTableClient(azurite.tableConnectionString), retention);
    const earlier = store.partitionFor(new Date('2026-01-01T00:00:00Z'));
    const later = store.partitionFor(new Date('2026-01-01T00:10:00Z'));
    expect(earlier < later).toBe(true);
  });

  it('when sessions are shorter-lived than flow retention, then cleanup still keeps flows within retention', async () => {
    const shortSessions = { ...retention, sessionAbsoluteSeconds: 60 };
    const store = new TableAuthStore(
      isolatedTableClient(azurite.tableConnectionString),
      shortSessions,
    );
    const createdAt = new Date(Date.now() - 30 * 60_000); // past the 10-minute TTL, within retention
    const flow = {
      key: { partition: store.partitionFor(createdAt), id: 'AAAAAAAAAAAAAAAAAAAAAA' },
      nonce: 'n',
      codeVerifier: 'v',
      returnTo: '/',
      cookieHash: 'h',
      createdAt,
      expiresAt: new Date(createdAt.getTime() + 600_000),
    };
    await store.createFlow(flow);
    await store.deleteExpired(new Date());
    expect(await store.readFlow(flow.key)).toBeDefined();
  });
});
