import { RestError, TableClient } from '@azure/data-tables';
import { AUTH_TABLE_NAME } from '../../src/adapters/tables/tableLayout';

/** The app's own table in Azurite, for tests that look at what was (not) written. */
export function authTable(connectionString: string): TableClient {
  return TableClient.fromConnectionString(connectionString, AUTH_TABLE_NAME, {
    allowInsecureConnection: true,
  });
}

/** Every row of the table (0 before the app has created it). */
export async function countRows(table: TableClient): Promise<number> {
  let rows = 0;
  try {
    for await (const _ of table.listEntities({ queryOptions: { select: ['RowKey'] } })) rows++;
  } catch (error) {
    if (error instanceof RestError && error.statusCode === 404) return 0;
    throw error;
  }
  return rows;
}
