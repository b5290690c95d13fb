import { msalCredential } from '../../../src/adapters/msal/credentials';
import { azureCredential } from '../../../src/adapters/identity/azureCredentials';
import type { MsalCredential } from '../../../src/adapters/msal/MsalIdentityProvider';

/** The assertion MSAL would get, called as msal-node calls it. */
async function assertionOf(credential: MsalCredential): Promise<string> {
  const assertion = credential.clientAssertion;
  if (typeof assertion !== 'function') throw new Error('no client assertion callback');
  return assertion({ clientId: 'app', tokenEndpoint: 'https://login.example/token' });
}

/** What the app asked @azure/identity for: loads of the module, credentials built, tokens requested. */
const mockIdentity = {
  loads: 0,
  built: [] as { credential: string; options: unknown }[],
  tokens: [] as { credential: string; scopes: unknown }[],
};

jest.mock('@azure/identity', () => {
  mockIdentity.loads++;
  const fake = (credential: string) =>
    class {
      constructor(readonly options?: unknown) {
        mockIdentity.built.push({ credential, options });
      }
      async getToken(scopes: unknown) {
        mockIdentity.tokens.push({ credential, scopes });
        return { token: `${credential}-token`, expiresOnTimestamp: Date.now() + 3_600_000 };
      }
    };
  return {
    ManagedIdentityCredential: fake('ManagedIdentityCredential'),
    DefaultAzureCredential: fake('DefaultAzureCredential'),
  };
});

const STORAGE_SCOPE = 'https://storage.azure.com/.default';

describe('azureCredential', () => {
  beforeEach(() => {
    mockIdentity.built = [];
    mockIdentity.tokens = [];
  });

  it('when a managed identity is configured, then only ManagedIdentityCredential with its client id is used', async () => {
    const token = await azureCredential('mi-client-id').getToken(STORAGE_SCOPE);

    expect(token?.token).toBe('ManagedIdentityCredential-token');
    expect(mockIdentity.built).toEqual([
      { credential: 'ManagedIdentityCredential', options: { clientId: 'mi-client-id' } },
    ]);
  });

  it('when no managed identity is configured, then DefaultAzureCredential is used', async () => {
    await azureCredential(undefined).getToken(STORAGE_SCOPE);

    expect(mockIdentity.built.map((b) => b.credential)).toEqual(['DefaultAzureCredential']);
  });

  it('builds the credential once, however many tokens are asked for', async () => {
    const credential = azureCredential('mi-client-id');
    await credential.getToken(STORAGE_SCOPE);
    await credential.getToken(STORAGE_SCOPE);

    expect(mockIdentity.built).toHaveLength(1);
    expect(mockIdentity.tokens).toHaveLength(2);
  });
});

describe('the federated-credential assertion', () => {
  beforeEach(() => {
    mockIdentity.built = [];
    mockIdentity.tokens = [];
  });

  it("is a token of the configured managed identity for Entra's token exchange", async () => {
    const credential = msalCredential({ kind: 'managedIdentity', managedIdentityClientId: 'mi-1' });

    const assertion = await assertionOf(credential);

    expect(assertion).toBe('ManagedIdentityCredential-token');
    expect(mockIdentity.built).toEqual([
      { credential: 'ManagedIdentityCredential', options: { clientId: 'mi-1' } },
    ]);
    expect(mockIdentity.tokens).toEqual([
      { credential: 'ManagedIdentityCredential', scopes: 'api://AzureADTokenExchange/.default' },
    ]);
  });
});

describe('loading @azure/identity', () => {
  it('waits for the first token: a connection-string setup, or building clients, never loads it', async () => {
    jest.resetModules();
    mockIdentity.loads = 0;
    // Fresh copies, so this test sees the first load of the mocked module.
    const tables = jest.requireActual<
      typeof import('../../../src/adapters/tables/createTableClient')
    >('../../../src/adapters/tables/createTableClient');
    const credentials = jest.requireActual<typeof import('../../../src/adapters/msal/credentials')>(
      '../../../src/adapters/msal/credentials',
    );

    tables.createTableClient({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
    tables.createTableClient(
      { kind: 'tableEndpoint', tableEndpoint: 'https://st.table.core.windows.net' },
      'mi-client-id',
    );
    const credential = credentials.msalCredential({
      kind: 'managedIdentity',
      managedIdentityClientId: 'mi-1',
    });
    expect(mockIdentity.loads).toBe(0);

    await assertionOf(credential);
    expect(mockIdentity.loads).toBe(1);
  });
});
