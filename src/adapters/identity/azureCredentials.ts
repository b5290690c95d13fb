import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';

/**
 * Azure Identity credentials for the app's Azure clients, chosen deterministically: with a managed
 * identity configured, exactly that identity (ManagedIdentityCredential with its client id) and nothing
 * else; DefaultAzureCredential only without one (local development against a real account), as the
 * Azure Identity guidance advises, since its chain would try other sources first.
 * @see https://learn.microsoft.com/azure/developer/javascript/sdk/authentication/best-practices
 *
 * @azure/identity is loaded on first use, not at start-up: a connection-string setup never loads it.
 */
export function azureCredential(managedIdentityClientId: string | undefined): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  const load = () =>
    (credential ??= import('@azure/identity').then((identity) =>
      managedIdentityClientId
        ? new identity.ManagedIdentityCredential({ clientId: managedIdentityClientId })
        : new identity.DefaultAzureCredential(),
    ));
  return {
    getToken: async (
      scopes: string | string[],
      options?: GetTokenOptions,
    ): Promise<AccessToken | null> => (await load()).getToken(scopes, options),
  };
}
