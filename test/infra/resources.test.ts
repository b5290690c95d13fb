import { AUTH_TABLE_NAME } from '../../src/adapters/tables/tableLayout';
import {
  compact,
  type Deployment,
  literal,
  loadDeployment,
  type ModuleInstance,
  moduleInstance,
  need,
  objectKeys,
  outputs,
  prop,
  props,
  render,
  type Resource,
  resourceOfType,
  resources,
  variables,
} from './bicep';

let deployment: Deployment;
beforeAll(async () => {
  deployment = await loadDeployment();
});

const at = (resource: Resource, property: string) => literal(prop(resource.body, property));

/** A property rendered in its module's scope; unknown expressions as {expression}. */
function rendered(instance: ModuleInstance, resource: Resource, property: string): string {
  return render(
    need(prop(resource.body, property), `${resource.symbol}.${property}`),
    instance.scope,
    (e) => `{${e}}`,
  );
}

describe('storage', () => {
  it('allows Entra ID access only, over TLS 1.2, with no public blobs', () => {
    const storage = moduleInstance(deployment, 'storage');
    const account = resourceOfType(storage.file, 'Microsoft.Storage/storageAccounts');

    expect(at(account, 'properties.allowSharedKeyAccess')).toBe(false);
    expect(at(account, 'properties.minimumTlsVersion')).toBe('TLS1_2');
    expect(at(account, 'properties.allowBlobPublicAccess')).toBe(false);
    expect(at(account, 'properties.supportsHttpsTrafficOnly')).toBe(true);
  });

  it('creates the table the app uses (AUTH_TABLE_NAME)', () => {
    const storage = moduleInstance(deployment, 'storage');
    const table = resourceOfType(
      storage.file,
      'Microsoft.Storage/storageAccounts/tableServices/tables',
    );

    expect(table.parent && at(table.parent, 'name')).toBe('default');
    expect(rendered(storage, table, 'name')).toBe(AUTH_TABLE_NAME);
  });

  it('creates the deployment container the function app deploys from', () => {
    const storage = moduleInstance(deployment, 'storage');
    const api = moduleInstance(deployment, 'api');
    const container = resourceOfType(
      storage.file,
      'Microsoft.Storage/storageAccounts/blobServices/containers',
    );
    const site = resourceOfType(api.file, 'Microsoft.Web/sites');
    const name = rendered(storage, container, 'name');

    expect(name).toMatch(/^app-package-\{.+\}-\{.+\}$/);
    expect(at(container, 'properties.publicAccess')).toBe('None');
    expect(rendered(api, site, 'properties.functionAppConfig.deployment.storage.value')).toBe(
      `{stg.properties.primaryEndpoints.blob}${name}`,
    );
    const stg = resources(api.file).find((r) => r.symbol === 'stg');
    expect(stg?.existing).toBe(true);
    expect(compact(api.use.params.get('storageAccountName'))).toBe('storage.outputs.name');
  });

  it('gives the app the table endpoint without the trailing slash', () => {
    const storage = moduleInstance(deployment, 'storage');

    expect(compact(variables(storage.file).get('tableEndpoint'))).toBe(
      'storage.properties.primaryEndpoints.table',
    );
    expect(compact(outputs(storage.file).get('tableEndpoint'))).toBe(
      "endsWith(tableEndpoint,'/')?substring(tableEndpoint,0,length(tableEndpoint)-1):tableEndpoint",
    );
  });
});

describe('monitoring', () => {
  it('accepts only Entra-authenticated telemetry (local auth disabled)', () => {
    const monitoring = moduleInstance(deployment, 'monitoring');
    const workspace = resourceOfType(monitoring.file, 'Microsoft.OperationalInsights/workspaces');
    const insights = resourceOfType(monitoring.file, 'Microsoft.Insights/components');

    expect(at(workspace, 'properties.features.disableLocalAuth')).toBe(true);
    expect(at(insights, 'properties.DisableLocalAuth')).toBe(true);
    expect(compact(prop(insights.body, 'properties.WorkspaceResourceId'))).toBe(
      `${workspace.symbol}.id`,
    );
  });
});

describe('the function app', () => {
  it('runs on the Flex Consumption plan (FC1, Linux)', () => {
    const api = moduleInstance(deployment, 'api');
    const plan = resourceOfType(api.file, 'Microsoft.Web/serverfarms');
    const site = resourceOfType(api.file, 'Microsoft.Web/sites');

    expect(at(plan, 'sku.name')).toBe('FC1');
    expect(at(plan, 'sku.tier')).toBe('FlexConsumption');
    expect(at(plan, 'properties.reserved')).toBe(true);
    expect(at(site, 'kind')).toBe('functionapp,linux');
    expect(compact(prop(site.body, 'properties.serverFarmId'))).toBe(`${plan.symbol}.id`);
  });

  it('runs Node 22', () => {
    const api = moduleInstance(deployment, 'api');
    const site = resourceOfType(api.file, 'Microsoft.Web/sites');

    expect(rendered(api, site, 'properties.functionAppConfig.runtime.name')).toBe('node');
    expect(rendered(api, site, 'properties.functionAppConfig.runtime.version')).toBe('22');
  });

  it('runs as the user-assigned identity, which also reads its deployment package', () => {
    const api = moduleInstance(deployment, 'api');
    const site = resourceOfType(api.file, 'Microsoft.Web/sites');
    const identities = need(prop(site.body, 'identity.userAssignedIdentities'), 'identities');

    expect(at(site, 'identity.type')).toBe('UserAssigned');
    expect([...props(identities).keys()]).toEqual(['${identityId}']);
    expect(at(site, 'properties.functionAppConfig.deployment.storage.authentication.type')).toBe(
      'UserAssignedIdentity',
    );
    expect(
      prop(
        site.body,
        'properties.functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId',
      )?.text,
    ).toBe('identityId');
  });

  it('answers over https only', () => {
    const site = resourceOfType(moduleInstance(deployment, 'api').file, 'Microsoft.Web/sites');

    expect(at(site, 'properties.httpsOnly')).toBe(true);
  });

  it('keeps the default host name main.bicep computes for the redirect URI', () => {
    const api = moduleInstance(deployment, 'api');
    const site = resourceOfType(api.file, 'Microsoft.Web/sites');
    const host = render(
      need(variables(deployment.main).get('functionAppHostName'), 'functionAppHostName'),
      deployment.mainScope,
      (e) => `{${e}}`,
    );

    // Opting into unique default host names (<name>-<hash>.<region>.azurewebsites.net) would break it.
    expect([...props(need(prop(site.body, 'properties'), 'properties')).keys()]).not.toContain(
      'autoGeneratedDomainNameLabelScope',
    );
    expect(host).toBe(`${rendered(api, site, 'name')}.azurewebsites.net`);
  });

  it('gets its settings from one appsettings resource, not also from siteConfig', () => {
    const api = moduleInstance(deployment, 'api');
    const site = resourceOfType(api.file, 'Microsoft.Web/sites');
    const config = resourceOfType(api.file, 'Microsoft.Web/sites/config');

    expect(prop(site.body, 'properties.siteConfig.appSettings')).toBeUndefined();
    expect(at(config, 'name')).toBe('appsettings');
    expect(config.parent?.symbol).toBe(site.symbol);
    expect(
      objectKeys(need(prop(config.body, 'properties'), 'properties'), api.scope).size,
    ).toBeGreaterThan(5);
  });
});
