import { DEFAULT_GRAPH_BASE_URL, loadConfig } from '../../src/config';

const BASE = {
  AUTH_CLIENT_ID: 'client',
  AUTH_TENANT_ID: 'contoso.onmicrosoft.com',
  AUTH_CLIENT_SECRET: 'secret',
  AUTH_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
};

describe('settings for calling APIs as the user', () => {
  it('when nothing is set, then Graph is graph.microsoft.com and no client capability is declared', () => {
    const config = loadConfig(BASE);
    expect(config.graphBaseUrl.href).toBe(`${DEFAULT_GRAPH_BASE_URL}/`);
    expect(config.clientCapabilities).toEqual([]);
  });

  it('when AUTH_GRAPH_BASE_URL and AUTH_CLIENT_CAPABILITIES are set, then both are read', () => {
    const config = loadConfig({
      ...BASE,
      AUTH_GRAPH_BASE_URL: 'https://localhost:7443',
      AUTH_CLIENT_CAPABILITIES: 'cp1',
    });
    expect(config.graphBaseUrl.origin).toBe('https://localhost:7443');
    expect(config.clientCapabilities).toEqual(['cp1']);
  });

  it('when Graph is plain http or a capability is malformed, then both are named in one error', () => {
    expect(() =>
      loadConfig({
        ...BASE,
        AUTH_GRAPH_BASE_URL: 'http://graph.example.com',
        AUTH_CLIENT_CAPABILITIES: 'cp1, not a capability',
      }),
    ).toThrow(/AUTH_GRAPH_BASE_URL must be an https URL[\s\S]*AUTH_CLIENT_CAPABILITIES/);
  });
});
