import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, SETTING_NAMES } from '../../src/config';
import { routePath, routes } from '../../src/routes';
import {
  appSettings,
  compact,
  type Deployment,
  INFRA,
  literal,
  loadDeployment,
  type Located,
  origin,
  render,
  ROOT,
} from './bicep';

/** What the secretless Azure deployment must set (SPEC "Settings"). */
const REQUIRED_AUTH_SETTINGS = [
  'AUTH_CLIENT_ID',
  'AUTH_TENANT_ID',
  'AUTH_MANAGED_IDENTITY_CLIENT_ID',
  'AUTH_STORAGE_TABLE_ENDPOINT',
  'AUTH_REDIRECT_URI',
];

/** Settings that would mean a secret or a shared key in the deployment. */
const FORBIDDEN_SETTINGS = [
  'AUTH_CLIENT_SECRET',
  'AUTH_CLIENT_CERTIFICATE_PATH',
  'AUTH_STORAGE_CONNECTION_STRING',
  'AzureWebJobsStorage',
  // Flex Consumption takes the runtime from functionAppConfig and rejects these two.
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
];

let deployment: Deployment;
let settings: Map<string, Located>;
beforeAll(async () => {
  deployment = await loadDeployment();
  settings = appSettings(deployment);
});

/** Where a setting's value comes from, as compact source text (after parameters and variables). */
function source(name: string): string {
  const setting = settings.get(name);
  if (!setting) throw new Error(`no app setting ${name}`);
  return compact(origin(setting.node, setting.scope).node);
}

describe('function app settings', () => {
  it('set every AUTH_* setting the secretless deployment needs', () => {
    expect(REQUIRED_AUTH_SETTINGS.filter((name) => !settings.has(name))).toEqual([]);
  });

  it('use only AUTH_* names the app reads (SETTING_NAMES)', () => {
    const known = new Set<string>(SETTING_NAMES);
    const auth = [...settings.keys()].filter((name) => name.startsWith('AUTH_'));

    expect(auth.length).toBeGreaterThanOrEqual(REQUIRED_AUTH_SETTINGS.length);
    expect(auth.filter((name) => !known.has(name))).toEqual([]);
  });

  it('hold no secret, certificate, connection string or runtime override', () => {
    expect([...settings.keys()].filter((name) => FORBIDDEN_SETTINGS.includes(name))).toEqual([]);
  });

  it('never mention a secret setting, an account key or app credentials anywhere in infra', () => {
    const texts = ['main.bicep', 'main.parameters.json', 'app/api.bicep', 'app/entra.bicep']
      .map((f) => path.join(INFRA, f))
      .concat(path.join(ROOT, 'azure.yaml'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');

    for (const forbidden of [
      'AUTH_CLIENT_SECRET',
      'AUTH_STORAGE_CONNECTION_STRING',
      'listKeys(',
      'AccountKey=',
      'passwordCredentials',
      'keyCredentials',
    ]) {
      expect({ forbidden, found: texts.includes(forbidden) }).toEqual({ forbidden, found: false });
    }
  });

  it('take the client id from the app registration and the tenant from the deployment', () => {
    expect(source('AUTH_CLIENT_ID')).toBe('entra.outputs.appId');
    expect(source('AUTH_TENANT_ID')).toContain('tenant().tenantId');
  });

  it('point the app, the runtime and DefaultAzureCredential at the same managed identity', () => {
    const identityClientId = 'identity.outputs.clientId';

    expect(source('AUTH_MANAGED_IDENTITY_CLIENT_ID')).toBe(identityClientId);
    expect(source('AZURE_CLIENT_ID')).toBe(identityClientId);
    expect(source('AzureWebJobsStorage__clientId')).toBe(identityClientId);
    const appInsights = settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    if (!appInsights) throw new Error('no APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    expect(render(appInsights.node, appInsights.scope, (e) => `{${e}}`)).toBe(
      'ClientId={identity.outputs.clientId};Authorization=AAD',
    );
  });

  it('reach storage with the identity, never a key', () => {
    expect(literal(settings.get('AzureWebJobsStorage__credential')?.node)).toBe('managedidentity');
    expect(source('AzureWebJobsStorage__blobServiceUri')).toBe(
      'stg.properties.primaryEndpoints.blob',
    );
    expect(source('AUTH_STORAGE_TABLE_ENDPOINT')).toBe('storage.outputs.tableEndpoint');
  });

  it('set the redirect URI to the callback route on the app host', () => {
    const redirect = settings.get('AUTH_REDIRECT_URI');
    if (!redirect) throw new Error('no AUTH_REDIRECT_URI');

    const url = new URL(render(redirect.node, redirect.scope, () => 'x'));

    expect(url.protocol).toBe('https:');
    expect(url.hostname).toMatch(/^func-api-x\.azurewebsites\.net$/);
    expect(url.pathname).toBe(routePath(routes.callback));
  });
});

describe('the app, started with the Bicep app settings', () => {
  /** Plausible values for settings whose value is only known after deployment. */
  const DEPLOYED_VALUES: Record<string, string> = {
    AUTH_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    AUTH_TENANT_ID: '66666666-7777-8888-9999-000000000000',
    AUTH_ALLOWED_TENANTS: '66666666-7777-8888-9999-000000000000',
    AUTH_MANAGED_IDENTITY_CLIENT_ID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    AUTH_STORAGE_TABLE_ENDPOINT: 'https://stexample.table.core.windows.net',
    AZURE_CLIENT_ID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  };

  function environment(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, { node, scope }] of settings) {
      env[name] = DEPLOYED_VALUES[name] ?? render(node, scope, () => 'x');
    }
    const host = new URL(env.AUTH_REDIRECT_URI ?? 'https://missing').host;
    // What App Service sets on every instance.
    return { ...env, WEBSITE_INSTANCE_ID: 'instance-0', WEBSITE_HOSTNAME: host };
  }

  it('validates and uses the managed identity and the table endpoint', () => {
    const config = loadConfig(environment());

    expect(config.credential).toEqual({
      kind: 'managedIdentity',
      managedIdentityClientId: DEPLOYED_VALUES.AUTH_MANAGED_IDENTITY_CLIENT_ID,
    });
    expect(config.storage).toEqual({
      kind: 'tableEndpoint',
      tableEndpoint: DEPLOYED_VALUES.AUTH_STORAGE_TABLE_ENDPOINT,
    });
    expect(config.clientId).toBe(DEPLOYED_VALUES.AUTH_CLIENT_ID);
    expect(config.allowedTenants).toEqual([DEPLOYED_VALUES.AUTH_TENANT_ID]);
  });

  it('gets the redirect URI the app would derive from its own host name', () => {
    const env = environment();
    const withoutRedirect = { ...env };
    delete withoutRedirect.AUTH_REDIRECT_URI;

    expect(loadConfig(env).redirectUri.href).toBe(loadConfig(withoutRedirect).redirectUri.href);
  });

  it('sends the browser back to the demo page, on the same origin, after sign-out', () => {
    const config = loadConfig(environment());

    expect(config.postLogoutRedirectUri.href).toBe(
      `${config.redirectUri.origin}${routePath(routes.demo)}`,
    );
  });
});
