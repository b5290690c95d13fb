import { TableClient } from '@azure/data-tables';
import { storageTransportIsSafe, type StorageSettings } from '../../config';
import { azureCredential } from '../identity/azureCredentials';
import { AUTH_TABLE_NAME } from './tableLayout';

/** Few quick retries: a sign-in waits on these calls, and a down store should say so fast. */
const RETRY_OPTIONS = { maxRetries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000 };

export function createTableClient(
  storage: StorageSettings,
  managedIdentityClientId?: string,
): TableClient {
  if (storage.kind === 'connectionString') {
    return TableClient.fromConnectionString(storage.connectionString, AUTH_TABLE_NAME, {
      // Plain http is accepted only where settings accept it: Azurite on loopback.
      allowInsecureConnection: storageTransportIsSafe(storage.connectionString),
      retryOptions: RETRY_OPTIONS,
    });
  }
  // Shared keys stay disabled in Azure: the function app's managed identity signs in instead (locally,
  // without one, the developer's own Azure sign-in).
  return new TableClient(
    storage.tableEndpoint,
    AUTH_TABLE_NAME,
    azureCredential(managedIdentityClientId),
    {
      retryOptions: RETRY_OPTIONS,
    },
  );
}
