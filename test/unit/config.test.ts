import { ConfigError, loadConfig } from '../../src/config';

const minimal = {
  AUTH_CLIENT_ID: 'client',
  AUTH_TENANT_ID: '11111111-2222-4333-8444-555555555555',
  AUTH_CLIENT_SECRET: 'secret',
  AUTH_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
};

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('when only the required settings are given, then the defaults the README lists apply', () => {
    const config = loadConfig(minimal);
    expect(config.authority).toBe(
      'https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555',
    );
    expect(config.redirectUri.href).toBe('http://localhost:7071/api/auth/callback');
    expect(config.postLogoutRedirectUri.href).toBe('http://localhost:7071/');
    expect(config.allowedTenants).toEqual([]); // the tenant the issuer names
    expect(config.scopes).toEqual(['openid', 'profile', 'email', 'offline_access']);
    expect(config).toMatchObject({
      flowTtlSeconds: 600,
      sessionIdleSeconds: 3600,
      sessionAbsoluteSeconds: 28800,
      storageTimeoutMs: 5000,
      idpTimeoutMs: 10000,
    });
    expect(config.credential).toEqual({ kind: 'secret', clientSecret: 'secret' });
  });

  it('when AUTH_DEFAULT_RETURN_TO is a same-origin path, then sign-ins without a return URL land there; when it leaves the origin, then it is a problem', () => {
    expect(loadConfig(minimal).defaultReturnTo).toBe('/');
    expect(loadConfig({ ...minimal, AUTH_DEFAULT_RETURN_TO: '/api/demo' }).defaultReturnTo).toBe(
      '/api/demo',
    );
    for (const hostile of ['//evil.example', 'https://evil.example/', '/\\evil']) {
      expect(problemsOf({ ...minimal, AUTH_DEFAULT_RETURN_TO: hostile })).toEqual([
        expect.stringMatching(/^AUTH_DEFAULT_RETURN_TO must be a same-origin path/),
      ]);
    }
  });

  it('when running in Azure, then the redirect URI defaults to https on WEBSITE_HOSTNAME', () => {
    const config = loadConfig({
      ...minimal,
      WEBSITE_INSTANCE_ID: 'abc',
      WEBSITE_HOSTNAME: 'app.azurewebsites.net',
    });
    expect(config.redirectUri.href).toBe('https://app.azurewebsites.net/api/auth/callback');
  });

  it('when PORT is set locally, then the default redirect URI uses it', () => {
    expect(loadConfig({ ...minimal, PORT: '8080' }).redirectUri.href).toBe(
      'http://localhost:8080/api/auth/callback',
    );
  });

  it('when everything is wrong, then one error names every problem', () => {
    const problems = problemsOf({
      AUTH_AUTHORITY: 'http://insecure.test/t',
      AUTH_CLIENT_SECRET: 's',
      AUTH_MANAGED_IDENTITY_CLIENT_ID: 'mi',
      AUTH_FLOW_TTL_SECONDS: 'ten',
      AUTH_SESSION_IDLE_SECONDS: '9000',
      AUTH_SESSION_ABSOLUTE_SECONDS: '3600',
      AUTH_ALLOWED_REDIRECT_ORIGINS: 'https://ok.test,https://bad.test/path',
      AUTH_STORAGE_TIMEOUT_MS: '5s',
      AUTH_IDP_TIMEOUT_MS: '10',
    });
    const text = problems.join('\n');
    expect(text).toMatch(/AUTH_CLIENT_ID is required/);
    expect(text).toMatch(/AUTH_AUTHORITY must be an https URL/);
    expect(text).toMatch(/several credentials/);
    expect(text).toMatch(/AUTH_FLOW_TTL_SECONDS must be a whole number/);
    expect(text).toMatch(/AUTH_SESSION_IDLE_SECONDS \(9000\) must not exceed/);
    expect(text).toMatch(/no storage/);
    expect(text).toMatch(/https:\/\/bad.test\/path/);
    expect(text).toMatch(/AUTH_STORAGE_TIMEOUT_MS must be a whole number of milliseconds/);
    expect(text).toMatch(/AUTH_IDP_TIMEOUT_MS must be at least 100 milliseconds/);
    expect(problems.length).toBeGreaterThanOrEqual(9);
  });

  it('when no credential is set, then the error says which settings to choose from', () => {
    expect(problemsOf({ ...minimal, AUTH_CLIENT_SECRET: undefined })).toEqual([
      expect.stringMatching(
        /no credential: set exactly one of AUTH_CLIENT_SECRET, AUTH_CLIENT_CERTIFICATE_PATH, AUTH_MANAGED_IDENTITY_CLIENT_ID/,
      ),
    ]);
  });

  it('when both storage settings are set, then it is refused', () => {
    expect(
      problemsOf({ ...minimal, AUTH_STORAGE_TABLE_ENDPOINT: 'https://a.table.core.windows.net' }),
    ).toEqual([
      expect.stringMatching(/both AUTH_STORAGE_CONNECTION_STRING and AUTH_STORAGE_TABLE_ENDPOINT/),
    ]);
  });

  it('when the authority is multi-tenant without AUTH_ALLOWED_TENANTS, then it is refused', () => {
    expect(problemsOf({ ...minimal, AUTH_TENANT_ID: 'organizations' })).toEqual([
      expect.stringMatching(/AUTH_ALLOWED_TENANTS is required/),
    ]);
  });

  it('when AUTH_AUTHORITY is set, then its last segment is the tenant and AUTH_TENANT_ID is not needed', () => {
    const config = loadConfig({
      ...minimal,
      AUTH_TENANT_ID: undefined,
      AUTH_AUTHORITY: 'https://localhost:7443/tenant-x/',
    });
    expect(config.authority).toBe('https://localhost:7443/tenant-x');
    expect(config.allowedTenants).toEqual([]);
  });

  it('when extra scopes and allowed origins are listed, then they are parsed', () => {
    const config = loadConfig({
      ...minimal,
      AUTH_SCOPES: 'User.Read, api://x/y',
      AUTH_ALLOWED_REDIRECT_ORIGINS: 'https://a.test, http://localhost:3000',
      AUTH_ALLOWED_TENANTS: 't1,t2',
    });
    expect(config.scopes).toEqual([
      'openid',
      'profile',
      'email',
      'offline_access',
      'User.Read',
      'api://x/y',
    ]);
    expect(config.allowedRedirectOrigins).toEqual(['https://a.test', 'http://localhost:3000']);
    expect(config.allowedTenants).toEqual(['t1', 't2']);
  });

  it('when the managed identity credential and a table endpoint are set, then no secret is needed', () => {
    const config = loadConfig({
      AUTH_CLIENT_ID: 'client',
      AUTH_TENANT_ID: 'contoso.onmicrosoft.com',
      AUTH_MANAGED_IDENTITY_CLIENT_ID: 'mi-client',
      AUTH_STORAGE_TABLE_ENDPOINT: 'https://acct.table.core.windows.net',
    });
    expect(config.credential).toEqual({
      kind: 'managedIdentity',
      managedIdentityClientId: 'mi-client',
    });
    expect(config.storage).toEqual({
      kind: 'tableEndpoint',
      tableEndpoint: 'https://acct.table.core.windows.net',
    });
  });

  it.each([
    [
      'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;TableEndpoint=http://storage.example:10002/a;',
      false,
    ],
    ['DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k', false],
    [
      'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;TableEndpoint=http://127.0.0.1:10002/a;',
      true,
    ],
    ['UseDevelopmentStorage=true', true],
    [
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net',
      true,
    ],
  ])(
    'when the storage connection string is %s, then it is accepted: %s',
    (connectionString, accepted) => {
      const problems = problemsOf({ ...minimal, AUTH_STORAGE_CONNECTION_STRING: connectionString });
      expect(problems.length === 0).toBe(accepted);
    },
  );

  it('when the table endpoint is plain http, then it is refused', () => {
    expect(
      problemsOf({
        ...minimal,
        AUTH_STORAGE_CONNECTION_STRING: undefined,
        AUTH_STORAGE_TABLE_ENDPOINT: 'http://acct.table.core.windows.net',
      }),
    ).toEqual([expect.stringMatching(/AUTH_STORAGE_TABLE_ENDPOINT must be an https URL/)]);
  });

  it('when the outbound timeouts are set, then they bound storage and identity provider calls', () => {
    const config = loadConfig({
      ...minimal,
      AUTH_STORAGE_TIMEOUT_MS: '1500',
      AUTH_IDP_TIMEOUT_MS: ' 2500 ',
    });
    expect(config).toMatchObject({ storageTimeoutMs: 1500, idpTimeoutMs: 2500 });
    expect(problemsOf({ ...minimal, AUTH_IDP_TIMEOUT_MS: '600000' })).toEqual([
      expect.stringMatching(/AUTH_IDP_TIMEOUT_MS must be at most 120000/),
    ]);
  });
});
