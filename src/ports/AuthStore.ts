/**
 * Where flow records and sessions live. One port rather than two because the callback must
 * consume a flow and create its session atomically: the store decides how that is done.
 */

/** Locates a record: the partition is shared by a flow and the session it creates. */
export interface RecordKey {
  partition: string;
  id: string;
}

/** One sign-in attempt: everything the callback needs to finish it, bound to one browser. */
export interface FlowRecord {
  key: RecordKey;
  nonce: string;
  /** PKCE code_verifier (RFC 7636), never sent to the browser. */
  codeVerifier: string;
  returnTo: string;
  /** SHA-256 of the flow cookie's secret: binds the flow to the browser that started it. */
  cookieHash: string;
  createdAt: Date;
  expiresAt: Date;
  consumedAt?: Date;
  /** The id of the session this flow created, set when it was consumed by a sign-in. */
  sessionId?: string;
}

/** A flow as read, with the version (ETag) that a conditional consume needs. */
export interface StoredFlow {
  flow: FlowRecord;
  version: string;
}

/** The user's claims a session keeps, from the validated ID token (or a bearer token's). */
export interface UserClaims {
  oid: string;
  tid: string;
  sub?: string;
  name?: string;
  preferred_username?: string;
  email?: string;
  /** Entra's optional login_hint claim, sent back as logout_hint at sign-out. */
  login_hint?: string;
  roles: string[];
  groups: string[];
  /**
   * Group overage: set when the ID token carried Entra's overage marker instead of groups, or
   * more groups than a session keeps (MAX_SESSION_GROUPS). `groups` is then empty; a function
   * that requires groups resolves them through Graph (src/auth/groupMembership.ts).
   */
  groupsOverage?: true;
}

export interface SessionRecord {
  /** id is a hash of the cookie's secret, never the secret itself. */
  key: RecordKey;
  user: UserClaims;
  createdAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  /**
   * The session's first token cache (see TokenCacheStore), created with the session in the same
   * atomic step; never read back with the session.
   */
  tokenCache?: { sealed: Uint8Array };
}

export type ConsumeOutcome = 'consumed' | 'already_consumed';

export interface CleanupReport {
  flowsDeleted: number;
  sessionsDeleted: number;
  partitionsVisited: number;
}

/** How long records are kept; the store deletes them by key once past it. */
export interface RetentionPolicy {
  flowTtlSeconds: number;
  /** How long consumed and expired flows are kept after expiry, to tell them apart. */
  flowRetentionSeconds: number;
  sessionAbsoluteSeconds: number;
}

export interface AuthStore {
  /** A partition for a flow created now; its session will live beside it. */
  partitionFor(createdAt: Date): string;
  createFlow(flow: FlowRecord): Promise<void>;
  readFlow(key: RecordKey): Promise<StoredFlow | undefined>;
  /**
   * Marks the flow consumed if it is still at the version read, and creates the session in the
   * same atomic step when one is given. 'already_consumed' when another request won the race.
   */
  consumeFlow(
    stored: StoredFlow,
    consumedAt: Date,
    session?: SessionRecord,
  ): Promise<ConsumeOutcome>;
  readSession(key: RecordKey): Promise<SessionRecord | undefined>;
  /** Slides the idle expiry; a deleted session stays deleted. */
  extendSession(key: RecordKey, idleExpiresAt: Date): Promise<void>;
  deleteSession(key: RecordKey): Promise<void>;
  /** Deletes flows and sessions past their retention, found by key. */
  deleteExpired(now: Date): Promise<CleanupReport>;
}
