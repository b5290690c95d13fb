import type { RecordKey } from '../../ports/AuthStore';
import type { SessionGroups, SessionGroupsStore } from '../../ports/GroupDirectory';

/** In-process SessionGroupsStore for unit tests. */
export class MemorySessionGroupsStore implements SessionGroupsStore {
  private readonly records = new Map<string, SessionGroups>();
  reads = 0;
  writes = 0;

  async readSessionGroups(session: RecordKey): Promise<SessionGroups | undefined> {
    this.reads++;
    const record = this.records.get(keyOf(session));
    return record && { groupIds: [...record.groupIds], resolvedAt: new Date(record.resolvedAt) };
  }

  async writeSessionGroups(session: RecordKey, groups: SessionGroups): Promise<void> {
    this.writes++;
    this.records.set(keyOf(session), {
      groupIds: [...groups.groupIds],
      resolvedAt: new Date(groups.resolvedAt),
    });
  }

  async deleteSessionGroups(session: RecordKey): Promise<void> {
    this.records.delete(keyOf(session));
  }
}

function keyOf(key: RecordKey): string {
  return `${key.partition}\n${key.id}`;
}
