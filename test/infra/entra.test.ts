import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SCOPES } from '../../src/config';
import {
  appSettings,
  args,
  bicepFilesUnder,
  calleeName,
  compact,
  type Deployment,
  INFRA,
  items,
  literal,
  loadBicep,
  loadDeployment,
  type ModuleInstance,
  moduleInstance,
  need,
  origin,
  prop,
  props,
  render,
  type Resource,
  resourceOfType,
  resources,
  variables,
} from './bicep';

interface BicepConfig {
  extensions?: Record<string, string>;
}

/** Microsoft Graph's well-known delegated permission ids for the OpenID Connect scopes. */
const GRAPH_SCOPE_IDS: Record<string, string> = {
  openid: '37f7f235-527c-4136-accd-4a02d197296e',
  profile: '14dad69e-099b-42c9-810b-d002981feec1',
  email: '64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0',
  offline_access: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182',
};
const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

const bicepConfig = JSON.parse(
  readFileSync(path.join(INFRA, 'bicepconfig.json'), 'utf8'),
) as BicepConfig;

let deployment: Deployment;
let entra: ModuleInstance;
let app: Resource;
let credential: Resource;

beforeAll(async () => {
  deployment = await loadDeployment();
  entra = moduleInstance(deployment, 'entra');
  app = resourceOfType(entra.file, 'Microsoft.Graph/applications');
  credential = resourceOfType(
    entra.file,
    'Microsoft.Graph/applications/federatedIdentityCredentials',
  );
});

/** A property of a resource body, rendered with unknown expressions kept as {expression}. */
function rendered(resource: Resource, property: string): string {
  const node = prop(resource.body, property);
  if (!node) throw new Error(`${resource.symbol} has no ${property}`);
  return render(node, entra.scope, (e) => `{${e.replace(/\s+/g, '')}}`);
}

describe('the Microsoft Graph Bicep extension', () => {
  it('is a published, non-preview v1.0 version in bicepconfig.json', () => {
    expect(bicepConfig.extensions?.microsoftGraphV1).toMatch(
      /^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/,
    );
  });

  it('is declared, by an alias bicepconfig.json defines, in every file with Graph resources', async () => {
    const aliases = Object.keys(bicepConfig.extensions ?? {});
    const problems: string[] = [];
    for (const file of bicepFilesUnder(INFRA)) {
      const bicep = await loadBicep(file);
      const usesGraph = resources(bicep).some((r) => r.type.startsWith('Microsoft.Graph/'));
      for (const alias of bicep.extensions.filter((a) => !aliases.includes(a)))
        problems.push(`${file}: extension ${alias} is not defined in bicepconfig.json`);
      if (usesGraph && !bicep.extensions.includes('microsoftGraphV1'))
        problems.push(`${file}: Graph resources without \`extension microsoftGraphV1\``);
    }

    expect(problems).toEqual([]);
  });

  it('provides the API version the Graph resources use', () => {
    const provided = /\/microsoftgraph\/([^:]+):/.exec(
      bicepConfig.extensions?.microsoftGraphV1 ?? '',
    );
    const versions = resources(entra.file)
      .filter((r) => r.type.includes('@'))
      .map((r) => r.type.split('@')[1]);

    expect(versions.length).toBeGreaterThanOrEqual(3);
    expect([...new Set(versions)]).toEqual([provided?.[1]]);
  });
});

describe('the app registration', () => {
  it('has a uniqueName (its alternate key, so redeploying updates it) and a display name', () => {
    expect(rendered(app, 'uniqueName')).toMatch(/^entra-signin-\{.+\}$/);
    expect(rendered(app, 'displayName')).not.toBe('');
  });

  it('is single-tenant unless the deployment asks otherwise', () => {
    expect(rendered(app, 'signInAudience')).toBe('AzureADMyOrg');
  });

  it('registers the deployed callback and the post-logout URL as web redirect URIs', () => {
    const uris = origin(need(prop(app.body, 'web.redirectUris'), 'web.redirectUris'), entra.scope);
    expect(uris.node.type).toBe('call_expression');
    expect(calleeName(uris.node)).toBe('union');
    const [fixed, extras] = args(uris.node);

    expect(items(fixed).map((n) => n.text)).toEqual(['redirectUri', 'postLogoutRedirectUri']);
    expect(extras?.text).toBe('extraRedirectUriList');
    // The very values the app is configured with.
    const settings = appSettings(deployment);
    expect(settings.get('AUTH_REDIRECT_URI')?.node.text).toBe('redirectUri');
    expect(settings.get('AUTH_POST_LOGOUT_REDIRECT_URI')?.node.text).toBe('postLogoutRedirectUri');
  });

  it('takes extra redirect URIs from a comma-separated list, empty entries dropped', () => {
    expect(compact(variables(deployment.main).get('extraRedirectUriList'))).toBe(
      "filter(map(split(extraRedirectUris,','),uri=>trim(uri)),uri=>!empty(uri))",
    );
  });

  it('uses the authorization code flow only (no implicit grant)', () => {
    expect(literal(prop(app.body, 'web.implicitGrantSettings.enableIdTokenIssuance'))).toBe(false);
    expect(literal(prop(app.body, 'web.implicitGrantSettings.enableAccessTokenIssuance'))).toBe(
      false,
    );
  });

  it('has no password or key credential', () => {
    expect([...props(app.body).keys()]).not.toEqual(
      expect.arrayContaining(['passwordCredentials']),
    );
    expect([...props(app.body).keys()]).not.toEqual(expect.arrayContaining(['keyCredentials']));
  });

  it('asks Microsoft Graph for exactly the scopes the app requests (DEFAULT_SCOPES)', () => {
    const [graph, ...others] = items(prop(app.body, 'requiredResourceAccess'));
    if (!graph) throw new Error('no requiredResourceAccess');
    const permissionIds = variables(entra.file).get('graphDelegatedPermissionIds');
    const idsByScope = permissionIds ? props(permissionIds) : new Map();

    expect(others).toEqual([]);
    expect(render(need(prop(graph, 'resourceAppId'), 'resourceAppId'), entra.scope)).toBe(
      MICROSOFT_GRAPH_APP_ID,
    );
    const requested = items(prop(graph, 'resourceAccess')).map((access) => {
      const scope = /^graphDelegatedPermissionIds\.(\w+)$/.exec(
        prop(access, 'id')?.text ?? '',
      )?.[1];
      return {
        scope,
        type: literal(prop(access, 'type')),
        id: scope ? literal(idsByScope.get(scope)) : undefined,
      };
    });
    expect(requested.map((r) => r.scope).sort()).toEqual([...DEFAULT_SCOPES].sort());
    for (const r of requested) {
      expect(r).toEqual({ scope: r.scope, type: 'Scope', id: GRAPH_SCOPE_IDS[r.scope ?? ''] });
    }
  });

  it('has a service principal for its appId', () => {
    const servicePrincipal = resourceOfType(entra.file, 'Microsoft.Graph/servicePrincipals');

    expect(compact(prop(servicePrincipal.body, 'appId'))).toBe(`${app.symbol}.appId`);
  });
});

describe('the federated identity credential', () => {
  it('is a child of the application named <application uniqueName>/<name>', () => {
    expect(credential.parent?.symbol).toBe(app.symbol);
    const name = need(prop(credential.body, 'name'), 'credential name');

    expect(name.type).toBe('string');
    expect(render(name, entra.scope, (e) => `{${e}}`)).toMatch(
      new RegExp(`^\\{${app.symbol}\\.uniqueName\\}/[A-Za-z0-9_-]{1,120}$`),
    );
  });

  it('accepts tokens for api://AzureADTokenExchange only', () => {
    const audiences = items(prop(credential.body, 'audiences')).map((a) => render(a, entra.scope));

    expect(audiences).toEqual(['api://AzureADTokenExchange']);
  });

  it("trusts this tenant's v2.0 issuer", () => {
    expect(rendered(credential, 'issuer')).toBe(
      '{environment().authentication.loginEndpoint}{tenant().tenantId}/v2.0',
    );
  });

  it("has the function app's managed identity (its principal id) as subject", () => {
    const subject = origin(need(prop(credential.body, 'subject'), 'subject'), entra.scope);
    const identity = moduleInstance(deployment, 'identity');
    const principalIdOutput = identity.file.root
      .descendantsOfType('output_declaration')
      .find((o) => o.namedChildren[0]?.text === 'principalId');

    expect(compact(subject.node)).toBe('identity.outputs.principalId');
    expect(principalIdOutput?.text).toMatch(/= identity\.properties\.principalId$/);
    expect(
      resourceOfType(identity.file, 'Microsoft.ManagedIdentity/userAssignedIdentities').symbol,
    ).toBe('identity');
    // The same identity the function app runs as and names as its credential.
    const api = moduleInstance(deployment, 'api').use.params;
    expect(compact(api.get('identityId'))).toBe('identity.outputs.resourceId');
  });
});
