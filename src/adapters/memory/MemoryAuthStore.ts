import type {
  AuthStore,
  CleanupReport,
  ConsumeOutcome,
  FlowRecord,
  RecordKey,
  RetentionPolicy,
  SessionRecord,
  StoredFlow,
} from '../../ports/AuthStore';
import { MemoryTokenCacheStore } from './MemoryTokenCacheStore';

/** In-process AuthStore for unit tests: same contract as TableAuthStore, no I/O. */
export class MemoryAuthStore implements AuthStore {
  private readonly flows = new Map<string, { flow: FlowRecord; version: number }>();
  private readonly sessions = new Map<string, SessionRecord>();
  private nextVersion = 1;

  constructor(
    private readonly retention: RetentionPolicy,
    /** Where a session's first token cache goes, created with the session. */
    readonly tokenCaches = new MemoryTokenCacheStore(),
  ) {}

  partitionFor(createdAt: Date): string {
    return `m${Math.floor(createdAt.getTime() / 60_000)}`;
  }

  async createFlow(flow: FlowRecord): Promise<void> {
    const id = keyOf(flow.key);
    if (this.flows.has(id)) throw new Error(`flow ${id} exists`);
    this.flows.set(id, { flow: copyFlow(flow), version: this.nextVersion++ });
  }

  async readFlow(key: RecordKey): Promise<StoredFlow | undefined> {
    const entry = this.flows.get(keyOf(key));
    return entry && { flow: copyFlow(entry.flow), version: String(entry.version) };
  }

  async consumeFlow(
    stored: StoredFlow,
    consumedAt: Date,
    session?: SessionRecord,
  ): Promise<ConsumeOutcome> {
    const entry = this.flows.get(keyOf(stored.flow.key));
    if (!entry || String(entry.version) !== stored.version) return 'already_consumed';
    entry.flow.consumedAt = consumedAt;
    if (session) entry.flow.sessionId = session.key.id;
    entry.version = this.nextVersion++;
    if (session) this.sessions.set(keyOf(session.key), copySession(session));
    if (session?.tokenCache) this.tokenCaches.create(session.key, session.tokenCache.sealed);
    return 'consumed';
  }

  async readSession(key: RecordKey): Promise<SessionRecord | undefined> {
    const session = this.sessions.get(keyOf(key));
    return session && copySession(session);
  }

  async extendSession(key: RecordKey, idleExpiresAt: Date): Promise<void> {
    const session = this.sessions.get(keyOf(key));
    if (session) session.idleExpiresAt = idleExpiresAt;
  }

  async deleteSession(key: RecordKey): Promise<void> {
    this.sessions.delete(keyOf(key));
  }

  async deleteExpired(now: Date): Promise<CleanupReport> {
    const { flowRetentionSeconds, sessionAbsoluteSeconds } = this.retention;
    let flowsDeleted = 0;
    let sessionsDeleted = 0;
    for (const [id, { flow }] of this.flows) {
      if (flow.expiresAt.getTime() + flowRetentionSeconds * 1000 <= now.getTime()) {
        this.flows.delete(id);
        flowsDeleted++;
      }
    }
    for (const [id, session] of this.sessions) {
      if (session.createdAt.getTime() + sessionAbsoluteSeconds * 1000 <= now.getTime()) {
        this.sessions.delete(id);
        sessionsDeleted++;
      }
    }
    return { flowsDeleted, sessionsDeleted, partitionsVisited: 0 };
  }

  /** For tests: how many flows are still unconsumed. */
  unconsumedFlows(): number {
    return [...this.flows.values()].filter((e) => !e.flow.consumedAt).length;
  }
}

// Copies in and out, as a real store would: callers never share the stored objects.
function copyFlow(flow: FlowRecord): FlowRecord {
  return {
    ...flow,
    key: { ...flow.key },
    createdAt: new Date(flow.createdAt),
    expiresAt: new Date(flow.expiresAt),
    consumedAt: flow.consumedAt && new Date(flow.consumedAt),
  };
}

function copySession(session: SessionRecord): SessionRecord {
  return {
    key: { ...session.key },
    user: JSON.parse(JSON.stringify(session.user)) as SessionRecord['user'],
    createdAt: new Date(session.createdAt),
    idleExpiresAt: new Date(session.idleExpiresAt),
    absoluteExpiresAt: new Date(session.absoluteExpiresAt),
  };
}

function keyOf(key: RecordKey): string {
  return `${key.partition}\n${key.id}`;
}
