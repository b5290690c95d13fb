import type { TableClient, TableEntity } from '@azure/data-tables';
import type { RecordKey } from '../../ports/AuthStore';
import type { SessionGroups, SessionGroupsStore } from '../../ports/GroupDirectory';
import { BoundedTableOperations } from './BoundedTableOperations';

/**
 * The groups resolved through Graph for a session (group overage), one row beside the session:
 *
 * | key          | value                                       | why                                   |
 * |--------------|---------------------------------------------|---------------------------------------|
 * | PartitionKey | the session's partition                     | the cleanup that deletes old partitions deletes it too |
 * | RowKey       | `g.<SHA-256 of the session cookie's secret>` | a point read, only for a function that requires groups |
 * | `g0`, `g1`...| binary: the group ids as 16-byte GUIDs, 4,000 a property | 64 KiB per property, 1 MiB per row |
 * | `count`, `resolvedAtMs` | how many, and when Graph was asked |                              |
 *
 * A separate row, not the session's: the session row is read on every request and stays small;
 * this one is read only by functions that name groups. 16 bytes a group (a GUID as text would be
 * 72 bytes of UTF-16), so 5,000 groups are 80 KB in 2 properties, and the most a row may hold,
 * MAX_STORED_GROUPS (32,000), is 512 KB (683 KB as base64 on the wire): well under the 1 MiB
 * entity limit, and above the most the lookup reads (MAX_GROUP_PAGES of 999).
 */

export const SESSION_GROUPS_PREFIX = 'g.';
const GROUPS_PER_PROPERTY = 4_000;
const MAX_PROPERTIES = 8;
export const MAX_STORED_GROUPS = GROUPS_PER_PROPERTY * MAX_PROPERTIES;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type SessionGroupsEntity = {
  kind: 'groups';
  count: number;
  resolvedAtMs: number;
} & Record<`g${number}`, Uint8Array>;

export class TableSessionGroupsStore implements SessionGroupsStore {
  private readonly operations: BoundedTableOperations;

  constructor(
    private readonly client: TableClient,
    options: { operationTimeoutMs: number },
  ) {
    this.operations = new BoundedTableOperations(client, options.operationTimeoutMs);
  }

  async readSessionGroups(session: RecordKey): Promise<SessionGroups | undefined> {
    const entity = await this.operations.pointRead<SessionGroupsEntity>(
      'read session groups',
      session.partition,
      SESSION_GROUPS_PREFIX + session.id,
    );
    if (entity?.kind !== 'groups') return undefined;
    return { groupIds: decodeGroups(entity), resolvedAt: new Date(entity.resolvedAtMs) };
  }

  async writeSessionGroups(session: RecordKey, groups: SessionGroups): Promise<void> {
    const entity: TableEntity<Record<string, unknown>> = {
      partitionKey: session.partition,
      rowKey: SESSION_GROUPS_PREFIX + session.id,
      kind: 'groups',
      count: groups.groupIds.length,
      resolvedAtMs: groups.resolvedAt.getTime(),
      ...encodeGroups(groups.groupIds),
    };
    await this.operations.run('write session groups', (options) =>
      this.client.upsertEntity(entity, 'Replace', options),
    );
  }

  deleteSessionGroups(session: RecordKey): Promise<void> {
    return this.operations.deleteRow(
      'delete session groups',
      session.partition,
      SESSION_GROUPS_PREFIX + session.id,
    );
  }
}

/** Group ids (GUIDs, as Entra's object ids are) as binary properties g0, g1, ... */
export function encodeGroups(groupIds: readonly string[]): Record<string, Uint8Array> {
  if (groupIds.length > MAX_STORED_GROUPS) {
    throw new Error(`${groupIds.length} groups are more than a row holds (${MAX_STORED_GROUPS})`);
  }
  const properties: Record<string, Uint8Array> = {};
  for (let p = 0; p * GROUPS_PER_PROPERTY < groupIds.length; p++) {
    const chunk = groupIds.slice(p * GROUPS_PER_PROPERTY, (p + 1) * GROUPS_PER_PROPERTY);
    const bytes = new Uint8Array(chunk.length * 16);
    chunk.forEach((id, i) => {
      if (!GUID.test(id)) throw new Error('a group id is not a GUID');
      bytes.set(Buffer.from(id.replaceAll('-', ''), 'hex'), i * 16);
    });
    properties[`g${p}`] = bytes;
  }
  return properties;
}

export function decodeGroups(entity: Record<string, unknown>): string[] {
  const ids: string[] = [];
  for (let p = 0; entity[`g${p}`] instanceof Uint8Array; p++) {
    const bytes = Buffer.from(entity[`g${p}`] as Uint8Array);
    for (let i = 0; i + 16 <= bytes.length; i += 16) {
      const hex = bytes.subarray(i, i + 16).toString('hex');
      ids.push(
        `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      );
    }
  }
  return ids;
}
