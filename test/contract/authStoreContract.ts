import type { AuthStore, FlowRecord, SessionRecord } from '../../src/ports/AuthStore';
import { randomToken } from '../../src/auth/secrets';

/**
 * The behaviour every AuthStore must have, run against each implementation (memory in unit
 * tests, Table Storage on Azurite in integration tests).
 */
export interface StoreUnderTest {
  store: AuthStore;
  /** Retention the store was built with. */
  retention: {
    flowTtlSeconds: number;
    flowRetentionSeconds: number;
    sessionAbsoluteSeconds: number;
  };
}

export function describeAuthStoreContract(
  name: string,
  create: () => Promise<StoreUnderTest>,
): void {
  describe(`AuthStore contract: ${name}`, () => {
    let store: AuthStore;
    let retention: StoreUnderTest['retention'];
    beforeEach(async () => {
      ({ store, retention } = await create());
    });

    const newFlow = (createdAt = new Date()): FlowRecord => ({
      key: { partition: store.partitionFor(createdAt), id: randomToken(16) },
      nonce: randomToken(16),
      codeVerifier: randomToken(32),
      returnTo: '/x?y=1',
      cookieHash: randomToken(32),
      createdAt,
      expiresAt: new Date(createdAt.getTime() + retention.flowTtlSeconds * 1000),
    });
    const newSession = (flow: FlowRecord, createdAt = new Date()): SessionRecord => ({
      key: { partition: flow.key.partition, id: randomToken(32) },
      user: {
        oid: 'o',
        tid: 't',
        name: 'N',
        roles: ['r'],
        groups: Array.from({ length: 150 }, (_, i) => `g${i}`),
      },
      createdAt,
      idleExpiresAt: new Date(createdAt.getTime() + 3600_000),
      absoluteExpiresAt: new Date(createdAt.getTime() + 7200_000),
    });

    it('when a flow is created, then it reads back whole and unconsumed', async () => {
      const flow = newFlow();
      await store.createFlow(flow);
      const stored = await store.readFlow(flow.key);
      expect(stored?.flow).toEqual({ ...flow, consumedAt: undefined });
      expect(stored?.version).toEqual(expect.any(String));
    });

    it('when a flow is unknown, then reading it gives undefined', async () => {
      expect(
        await store.readFlow({ partition: store.partitionFor(new Date()), id: randomToken(16) }),
      ).toBeUndefined();
    });

    it('when a flow is consumed with a session, then both exist together', async () => {
      const flow = newFlow();
      await store.createFlow(flow);
      const session = newSession(flow);
      expect(await store.consumeFlow((await store.readFlow(flow.key))!, new Date(), session)).toBe(
        'consumed',
      );
      expect((await store.readFlow(flow.key))?.flow.consumedAt).toBeInstanceOf(Date);
      expect(await store.readSession(session.key)).toEqual(session);
    });

    it('when two consumers race on the same version, then exactly one wins and only one session exists', async () => {
      const flow = newFlow();
      await store.createFlow(flow);
      const stored = (await store.readFlow(flow.key))!;
      const a = newSession(flow);
      const b = newSession(flow);
      const outcomes = await Promise.all([
        store.consumeFlow(stored, new Date(), a),
        store.consumeFlow(stored, new Date(), b),
      ]);
      expect(outcomes.sort()).toEqual(['already_consumed', 'consumed']);
      const sessions = await Promise.all([store.readSession(a.key), store.readSession(b.key)]);
      expect(sessions.filter(Boolean)).toHaveLength(1);
    });

    it('when a consumed flow is consumed again with its old version, then already_consumed and no session', async () => {
      const flow = newFlow();
      await store.createFlow(flow);
      const stored = (await store.readFlow(flow.key))!;
      await store.consumeFlow(stored, new Date());
      const late = newSession(flow);
      expect(await store.consumeFlow(stored, new Date(), late)).toBe('already_consumed');
      expect(await store.readSession(late.key)).toBeUndefined();
    });

    it('when a session is extended, then its idle expiry moves; when deleted, it is gone and stays gone', async () => {
      const flow = newFlow();
      await store.createFlow(flow);
      const session = newSession(flow);
      await store.consumeFlow((await store.readFlow(flow.key))!, new Date(), session);
      const later = new Date(session.idleExpiresAt.getTime() + 60_000);
      await store.extendSession(session.key, later);
      expect((await store.readSession(session.key))?.idleExpiresAt).toEqual(later);
      await store.deleteSession(session.key);
      await store.deleteSession(session.key); // idempotent
      await store.extendSession(session.key, later); // does not resurrect
      expect(await store.readSession(session.key)).toBeUndefined();
    });

    it('when cleanup runs, then only records past their retention are deleted', async () => {
      const hour = 3600_000;
      const old = new Date(
        Date.now() -
          retention.sessionAbsoluteSeconds * 1000 -
          retention.flowTtlSeconds * 1000 -
          2 * hour,
      );
      const recent = new Date();
      const oldFlow = newFlow(old);
      const oldFlowWithSession = newFlow(old);
      const recentFlow = newFlow(recent);
      for (const f of [oldFlow, oldFlowWithSession, recentFlow]) await store.createFlow(f);
      const oldSession = newSession(oldFlowWithSession, old);
      await store.consumeFlow((await store.readFlow(oldFlowWithSession.key))!, old, oldSession);
      const recentSession = newSession(recentFlow, recent);
      await store.consumeFlow((await store.readFlow(recentFlow.key))!, recent, recentSession);

      const report = await store.deleteExpired(new Date());

      expect(report.flowsDeleted).toBeGreaterThanOrEqual(2);
      expect(report.sessionsDeleted).toBeGreaterThanOrEqual(1);
      expect(await store.readFlow(oldFlow.key)).toBeUndefined();
      expect(await store.readSession(oldSession.key)).toBeUndefined();
      expect(await store.readFlow(recentFlow.key)).toBeDefined();
      expect(await store.readSession(recentSession.key)).toBeDefined();
    });

    it('when a flow is past its TTL but within retention, then cleanup keeps it (expired vs unknown)', async () => {
      const createdAt = new Date(Date.now() - (retention.flowTtlSeconds + 60) * 1000);
      const flow = newFlow(createdAt);
      await store.createFlow(flow);
      await store.deleteExpired(new Date());
      expect(await store.readFlow(flow.key)).toBeDefined();
    });
  });
}
