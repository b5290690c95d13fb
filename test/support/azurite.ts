import { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { startAzurite, type RunningAzurite } from '../../dev/azurite';
import { freePort } from '../../dev/processes';

/** Azurite (Table service, in memory) on a free port, for one test file. */
export async function startTestAzurite(port?: number): Promise<RunningAzurite & { port: number }> {
  const tablePort = port ?? (await freePort());
  return { ...(await startAzurite({ tablePort })), port: tablePort };
}

/** A table client on its own table, so tests sharing one Azurite never see each other's rows. */
export function isolatedTableClient(connectionString: string): TableClient {
  const name = `t${randomUUID().replace(/-/g, '')}`;
  return TableClient.fromConnectionString(connectionString, name, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}
