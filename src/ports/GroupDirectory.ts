import type { RecordKey } from './AuthStore';

/**
 * Where a user's group memberships come from when the ID token could not carry them (Entra's
 * group overage), and where the resolved list is kept with the session.
 */

export interface GroupLookupBounds {
  /** Each page's request gives up after this long. */
  pageTimeoutMs: number;
  /** The whole lookup, every page included, gives up after this long. */
  overallTimeoutMs: number;
  /** At most this many pages are read; a membership beyond them is refused, not cut short. */
  maxPages: number;
}

export interface GroupDirectory {
  /**
   * The object ids of every group the token's user is a member of (directly or transitively).
   * Throws AuthError `groups_unavailable` when the directory fails, times out or refuses.
   */
  memberGroupIds(accessToken: string, bounds: GroupLookupBounds): Promise<string[]>;
}

/** The groups resolved for one session, kept beside it (same key) until it ends. */
export interface SessionGroups {
  groupIds: string[];
  resolvedAt: Date;
}

export interface SessionGroupsStore {
  readSessionGroups(session: RecordKey): Promise<SessionGroups | undefined>;
  /** Creates or replaces the record (two instances resolving at once write the same list). */
  writeSessionGroups(session: RecordKey, groups: SessionGroups): Promise<void>;
  /** Deletes the record; a missing one is fine. */
  deleteSessionGroups(session: RecordKey): Promise<void>;
}
