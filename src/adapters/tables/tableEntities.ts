import type { TableEntity, TableEntityResult } from '@azure/data-tables';
import { AuthError } from '../../auth/errors';
import type { FlowRecord, RecordKey, SessionRecord, UserClaims } from '../../ports/AuthStore';

/** Flow and session records as table rows (see TableAuthStore for the key design). */

export const FLOW_PREFIX = 'f.';
export const SESSION_PREFIX = 's.';
/**
 * A string property holds at most 64 KiB of UTF-16, 32,768 characters (Azurite and Azure refuse
 * more with PropertyValueTooLarge); keep a margin.
 */
export const MAX_CLAIMS_JSON_CHARS = 32_000;

export type FlowEntity = {
  kind: 'flow';
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  cookieHash: string;
  createdAtMs: number;
  expiresAtMs: number;
  consumedAtMs?: number;
  sessionId?: string;
};

export type SessionEntity = {
  kind: 'session';
  user: string;
  createdAtMs: number;
  idleExpiresAtMs: number;
  absoluteExpiresAtMs: number;
};

export function flowEntity(flow: FlowRecord): TableEntity<FlowEntity> {
  return {
    partitionKey: flow.key.partition,
    rowKey: FLOW_PREFIX + flow.key.id,
    kind: 'flow',
    nonce: flow.nonce,
    codeVerifier: flow.codeVerifier,
    returnTo: flow.returnTo,
    cookieHash: flow.cookieHash,
    createdAtMs: flow.createdAt.getTime(),
    expiresAtMs: flow.expiresAt.getTime(),
  };
}

export function flowOf(key: RecordKey, entity: TableEntityResult<FlowEntity>): FlowRecord {
  return {
    key,
    nonce: entity.nonce,
    codeVerifier: entity.codeVerifier,
    returnTo: entity.returnTo,
    cookieHash: entity.cookieHash,
    createdAt: new Date(entity.createdAtMs),
    expiresAt: new Date(entity.expiresAtMs),
    consumedAt: entity.consumedAtMs === undefined ? undefined : new Date(entity.consumedAtMs),
    ...(entity.sessionId === undefined ? {} : { sessionId: entity.sessionId }),
  };
}

/** The session row; claims beyond one string property are claims_too_large, not an outage. */
export function sessionEntity(session: SessionRecord): TableEntity<SessionEntity> {
  const user = JSON.stringify(session.user);
  if (user.length > MAX_CLAIMS_JSON_CHARS) {
    throw new AuthError(
      'claims_too_large',
      `the session's claims are ${user.length} characters of JSON, more than the ${MAX_CLAIMS_JSON_CHARS} a Table Storage property holds`,
    );
  }
  return {
    partitionKey: session.key.partition,
    rowKey: SESSION_PREFIX + session.key.id,
    kind: 'session',
    user,
    createdAtMs: session.createdAt.getTime(),
    idleExpiresAtMs: session.idleExpiresAt.getTime(),
    absoluteExpiresAtMs: session.absoluteExpiresAt.getTime(),
  };
}

export function sessionOf(key: RecordKey, entity: TableEntityResult<SessionEntity>): SessionRecord {
  return {
    key,
    user: JSON.parse(entity.user) as UserClaims,
    createdAt: new Date(entity.createdAtMs),
    idleExpiresAt: new Date(entity.idleExpiresAtMs),
    absoluteExpiresAt: new Date(entity.absoluteExpiresAtMs),
  };
}
