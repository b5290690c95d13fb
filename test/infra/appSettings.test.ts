import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, SETTING_NAMES } from '../../src/config';
import { routePath, routes } from '../../src/routes';
import { examplePath } from '../../example/src/routes';
import { Unknown } from './support/armExpressions';
import type { PlannedDeployment } from './support/armTemplate';
import { ROOT } from './support/bicepCli';
import {
  AZURE,
  at,
  beforeAllCompiled,
  describeCompiled,
  plan,
  single,
} from './support/plannedInfra';

/** What the secretless Azure deployment must set (README "Settings"). */
const REQUIRED_AUTH_SETTINGS = [
  'AUTH_CLIENT_ID',
  'AUTH_TENANT_ID',
  'AUTH_MANAGED_IDENTITY_CLIENT_ID',
  'AUTH_STORAGE_TABLE_ENDPOINT',
  'AUTH_REDIRECT_URI',
  'AUTH_POST_LOGOUT_REDIRECT_URI',
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

let deployment: PlannedDeployment;
let settings: Record<string, unknown>;
let identityLabel: string;
let siteLabel: string;
beforeAllCompiled(() => {
  deployment = plan();
  settings = at(single(deployment, 'Microsoft.Web/sites/config'), 'properties') as Record<
    string,
    unknown
  >;
  const identity = single(deployment, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  const site = single(deployment, 'Microsoft.Web/sites');
  identityLabel = `${identity.type}/${identity.name}`;
  siteLabel = `${site.type}/${site.name}`;
});

const show = (value: unknown) => String(value);

describeCompiled('function app settings', () => {
  it('are one appsettings resource of the function app', () => {
    const config = single(deployment, 'Microsoft.Web/sites/config');
    const site = single(deployment, 'Microsoft.Web/sites');

    expect(config.name).toBe(`${site.name}/appsettings`);
    expect(at(site, 'properties.siteConfig')).toBeUndefined();
  });

  it('set every AUTH_* setting the secretless deployment needs, and only names the app reads', () => {
    const auth = Object.keys(settings).filter((name) => name.startsWith('AUTH_'));

    expect(REQUIRED_AUTH_SETTINGS.filter((name) => !(name in settings))).toEqual([]);
    expect(auth.filter((name) => !(SETTING_NAMES as readonly string[]).includes(name))).toEqual([]);
  });

  it('hold no secret, certificate, connection string or runtime override', () => {
    expect(Object.keys(settings).filter((name) => FORBIDDEN_SETTINGS.includes(name))).toEqual([]);
    expect(
      Object.entries(settings).filter(([, v]) =>
        /AccountKey=|SharedAccessSignature/i.test(show(v)),
      ),
    ).toEqual([]);
  });

  it('take the client id from the app registration and the tenant from the deployment', () => {
    expect(show(settings.AUTH_CLIENT_ID)).toBe('<Microsoft.Graph/applications(entra.app).appId>');
    expect(settings.AUTH_TENANT_ID).toBe(AZURE.tenantId);
  });

  it('point the app, the runtime and telemetry at the same managed identity', () => {
    const clientId = `<${identityLabel}.clientId>`;

    expect(show(settings.AUTH_MANAGED_IDENTITY_CLIENT_ID)).toBe(clientId);
    expect(show(settings.AzureWebJobsStorage__clientId)).toBe(clientId);
    expect(settings.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      `ClientId=${clientId};Authorization=AAD`,
    );
  });

  it('reach storage through its Entra endpoints, never a key', () => {
    const account = single(deployment, 'Microsoft.Storage/storageAccounts');

    expect(show(settings.AzureWebJobsStorage__blobServiceUri)).toBe(
      `<${account.type}/${account.name}.primaryEndpoints.blob>`,
    );
    expect(settings.AUTH_STORAGE_TABLE_ENDPOINT).toBe(
      `https://${account.name}.table.core.windows.net`,
    );
  });

  it('set the redirect URIs to the callback and demo routes on the host the site reports', () => {
    const origin = `https://<${siteLabel}.defaultHostName>`;

    expect(settings.AUTH_REDIRECT_URI).toBe(`${origin}${routePath(routes.callback)}`);
    expect(settings.AUTH_POST_LOGOUT_REDIRECT_URI).toBe(`${origin}${examplePath('demo')}`);
  });

  it('allow other tenants only when configured: AUTH_ALLOWED_TENANTS and the organizations authority', () => {
    expect(settings).not.toHaveProperty('AUTH_ALLOWED_TENANTS');

    const multi = at(
      single(
        plan({ ENTRA_SIGN_IN_AUDIENCE: 'AzureADMultipleOrgs', ENTRA_ALLOWED_TENANTS: ' t1,t2 ' }),
        'Microsoft.Web/sites/config',
      ),
      'properties',
    );

    expect(multi).toMatchObject({ AUTH_TENANT_ID: 'organizations', AUTH_ALLOWED_TENANTS: 't1,t2' });
  });
});

describeCompiled('the app, started with the compiled app settings', () => {
  /** Plausible values for what only Azure knows. */
  const DEPLOYED: Record<string, string> = {
    appId: '44444444-4444-4444-4444-444444444444',
    clientId: '55555555-5555-5555-5555-555555555555',
    defaultHostName: 'func-api-x-abcdefgh.westeurope-01.azurewebsites.net',
    blob: 'https://stx.blob.core.windows.net/',
    ConnectionString: 'InstrumentationKey=00000000-0000-0000-0000-000000000000',
  };

  function environment(): Record<string, string> {
    const resolve = (label: string) => {
      const key = label.split('.').at(-1) ?? '';
      const value = DEPLOYED[key];
      if (!value) throw new Error(`no deployed value for ${label}`);
      return value;
    };
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(settings)) {
      env[name] =
        value instanceof Unknown
          ? resolve(value.label)
          : show(value).replace(/<([^>]+)>/g, (_, l: string) => resolve(l));
    }
    // What App Service sets on every instance.
    return {
      ...env,
      WEBSITE_INSTANCE_ID: 'instance-0',
      WEBSITE_HOSTNAME: DEPLOYED.defaultHostName as string,
    };
  }

  it('validates, and uses the managed identity and the table endpoint', () => {
    const config = loadConfig(environment());

    expect(config.credential).toEqual({
      kind: 'managedIdentity',
      managedIdentityClientId: DEPLOYED.clientId,
    });
    expect(config.storage).toEqual({
      kind: 'tableEndpoint',
      tableEndpoint: settings.AUTH_STORAGE_TABLE_ENDPOINT,
    });
    expect(config.clientId).toBe(DEPLOYED.appId);
    // Single tenant: no list, the app allows the issuer's own tenant.
    expect(config.allowedTenants).toEqual([]);
    expect(config.authority).toContain(AZURE.tenantId);
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
      `${config.redirectUri.origin}${examplePath('demo')}`,
    );
  });
});

describe('infra sources', () => {
  it('never mention a secret setting, an account key or app credentials', () => {
    const texts = [
      'infra/main.bicep',
      'infra/main.parameters.json',
      'infra/app/api.bicep',
      'infra/app/appSettings.bicep',
      'infra/app/entra.bicep',
      'azure.yaml',
    ]
      .map((f) => readFileSync(path.join(ROOT, f), 'utf8'))
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
});
