import { TableAuthStore, SHARDS } from '../../src/adapters/tables/TableAuthStore';
import { describeAuthStoreContract } from '../contract/authStoreContract';
import type { UserClaims } from '../../src/ports/AuthStore';
import { isolatedTableClient, startTestAzurite } from '../support/azurite';
import { startFaultProxy } from '../support/faultProxy';

const retention = {
  flowTtlSeconds: 600,
  flowRetentionSeconds: 3600,
  sessionAbsoluteSeconds: 28800,
};
let azurite: Awaited<ReturnType<typeof startTestAzurite>>;

/** A flow record of `store` with its 10-minute TTL, created at `createdAt`. */
const newFlow = (store: TableAuthStore, id: string, createdAt = new Date()) => ({
  key: { partition: store.partitionFor(createdAt), id },
  nonce: 'n',
  codeVerifier: 'v',
  returnTo: '/',
  cookieHash: 'h',
  createdAt,
  expiresAt: new Date(createdAt.getTime() + 600_000),
});

/** A session of a minute in `flow`'s partition (a session lives beside the flow that makes it). */
const newSession = (
  flow: ReturnType<typeof newFlow>,
  id: string,
  now = new Date(),
  user: UserClaims = { oid: 'o', tid: 't', roles: [], groups: [] },
) => ({
  key: { partition: flow.key.partition, id },
  user,
  createdAt: now,
  idleExpiresAt: new Date(now.getTime() + 60_000),
  absoluteExpiresAt: new Date(now.getTime() + 60_000),
});

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
    const flow = newFlow(store, 'AAAAAAAAAAAAAAAAAAAAAA', createdAt);
    await store.createFlow(flow);
    await store.deleteExpired(new Date());
    expect(await store.readFlow(flow.key)).toBeDefined();
  });
});

describe('TableAuthStore when storage misbehaves', () => {
  it('when its table is deleted while in use, then the next write recreates it', async () => {
    const client = isolatedTableClient(azurite.tableConnectionString);
    const store = new TableAuthStore(client, retention);
    await store.createFlow(newFlow(store, 'BBBBBBBBBBBBBBBBBBBBBB'));
    await client.deleteTable();
    const flow = newFlow(store, 'CCCCCCCCCCCCCCCCCCCCCC');
    await store.createFlow(flow);
    expect(await store.readFlow(flow.key)).toBeDefined();
  });

  it('when the table does not exist yet, then a read finds nothing without creating it, and the first write creates it', async () => {
    const client = isolatedTableClient(azurite.tableConnectionString);
    const store = new TableAuthStore(client, retention);
    const flow = newFlow(store, 'EEEEEEEEEEEEEEEEEEEEEE');
    expect(await store.readFlow(flow.key)).toBeUndefined();
    expect(await store.readSession({ partition: flow.key.partition, id: 'none' })).toBeUndefined();
    await expect(client.getAccessPolicy()).rejects.toMatchObject({ statusCode: 404 });
    await store.createFlow(flow);
    expect(await store.readFlow(flow.key)).toBeDefined();
  });

  it('when a flow is consumed with its session, then the flow row names that session (a reload is sent on only with it)', async () => {
    const store = new TableAuthStore(isolatedTableClient(azurite.tableConnectionString), retention);
    const flow = newFlow(store, 'FFFFFFFFFFFFFFFFFFFFFF');
    await store.createFlow(flow);
    const stored = (await store.readFlow(flow.key))!;
    const now = new Date();
    const session = newSession(flow, 'the-session-id', now);
    expect(await store.consumeFlow(stored, now, session)).toBe('consumed');
    expect((await store.readFlow(flow.key))?.flow).toMatchObject({
      consumedAt: now,
      sessionId: 'the-session-id',
    });
  });

  it('when a session holds more claims than a table property, then claims_too_large and the flow stays unconsumed', async () => {
    const store = new TableAuthStore(isolatedTableClient(azurite.tableConnectionString), retention);
    const flow = newFlow(store, 'DDDDDDDDDDDDDDDDDDDDDD');
    await store.createFlow(flow);
    const stored = (await store.readFlow(flow.key))!;
    const session = newSession(flow, 'session-id', new Date(), {
      oid: 'o',
      tid: 't',
      roles: [],
      groups: [],
      name: 'N'.repeat(40_000),
    });
    await expect(store.consumeFlow(stored, new Date(), session)).rejects.toMatchObject({
      code: 'claims_too_large',
    });
    expect((await store.readFlow(flow.key))?.flow.consumedAt).toBeUndefined();
  });

  it('when storage does not answer, then storage_unavailable within the operation budget', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined); // accepts connections, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    try {
      const connection = azurite.tableConnectionString.replace(
        /127\.0\.0\.1:\d+/,
        `127.0.0.1:${port}`,
      );
      const store = new TableAuthStore(isolatedTableClient(connection), retention, {
        operationTimeoutMs: 300,
      });
      await expect(store.readFlow({ partition: 'p', id: 'x' })).rejects.toMatchObject({
        code: 'storage_unavailable',
        message: expect.stringMatching(/within 300 ms/),
      });
    } finally {
      silent.close();
    }
  });
});

describe('TableAuthStore with many requests of one session at once', () => {
  /** A store whose every storage request goes through a fault proxy, which records it. */
  async function storeThroughProxy() {
    const proxy = await startFaultProxy({ target: `http://127.0.0.1:${azurite.port}` });
    const through = azurite.tableConnectionString.replace(`:${azurite.port}/`, `:${proxy.port}/`);
    return { proxy, store: new TableAuthStore(isolatedTableClient(through), retention) };
  }

  it('when fifty read one session at once, then they share reads, and callers after a sign-out see it', async () => {
    const { proxy, store } = await storeThroughProxy();
    try {
      const flow = newFlow(store, 'GGGGGGGGGGGGGGGGGGGGGG');
      await store.createFlow(flow);
      const now = new Date();
      const session = newSession(flow, 'shared-session', now);
      await store.consumeFlow((await store.readFlow(flow.key))!, now, session);
      proxy.requests.length = 0;

      const reads = await Promise.all(
        Array.from({ length: 50 }, () => store.readSession(session.key)),
      );
      expect(reads.every((read) => read?.user.oid === 'o')).toBe(true);
      // Shared rows, not shared records: one handler's edits never reach another request.
      expect(new Set(reads).size).toBe(50);
      expect(new Set(reads.map((read) => read?.user)).size).toBe(50);
      expect(proxy.requests.filter((r) => r.method === 'GET').length).toBeLessThanOrEqual(2);

      // A read whose answer (the live session) is still on its way when a sign-out lands:
      // callers that come after the sign-out must not be given that answer.
      proxy.inject({ method: 'GET', fault: { kind: 'delayAnswer', ms: 400 }, times: 1 });
      const inFlight = store.readSession(session.key);
      // Storage has answered that read (the live session) before the sign-out is sent.
      for (const started = Date.now(); ;) {
        if (proxy.requests.some((r) => r.fault === 'delayAnswer' && r.upstreamAnswered)) break;
        if (Date.now() - started > 2_000) throw new Error('storage did not answer the read');
        await new Promise((resolve) => setImmediate(resolve));
      }
      await store.deleteSession(session.key);
      const afterSignOut = Array.from({ length: 10 }, () => store.readSession(session.key));
      expect(await inFlight).toBeDefined();
      expect(await Promise.all(afterSignOut)).toEqual(Array(10).fill(undefined));
    } finally {
      await proxy.close();
    }
  });

  it('when fifty extend one session at once, then one write serves them', async () => {
    const { proxy, store } = await storeThroughProxy();
    try {
      const key = { partition: store.partitionFor(new Date()), id: 'extended' };
      await store.createFlow(newFlow(store, 'HHHHHHHHHHHHHHHHHHHHHH'));
      proxy.requests.length = 0;
      const later = new Date(Date.now() + 120_000);
      await Promise.all(Array.from({ length: 50 }, () => store.extendSession(key, later)));
      expect(proxy.requests.filter((r) => r.method !== 'GET').length).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});
