import { DEFAULT_SCOPES } from '../../src/config';
import { ADMIN_ROLE, API_SCOPE, DAEMON_ROLE, PROFILE_SCOPES } from '../../example/src/permissions';
import { GROUPS_GRAPH_SCOPES } from '../../src/auth/groupMembership';
import { routePath, routes } from '../../src/routes';
import { examplePath } from '../../example/src/routes';
import type { PlannedDeployment, PlannedResource } from './support/armTemplate';
import {
  AZURE,
  at,
  beforeAllCompiled,
  describeCompiled,
  plan,
  single,
} from './support/plannedInfra';

/** Microsoft Graph's well-known delegated permission ids for the OpenID Connect scopes. */
const GRAPH_SCOPE_IDS: Record<string, string> = {
  openid: '37f7f235-527c-4136-accd-4a02d197296e',
  profile: '14dad69e-099b-42c9-810b-d002981feec1',
  email: '64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0',
  offline_access: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182',
  'User.Read': 'e1fe6dd8-ba31-4d61-89e7-88639da4683d',
};
const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

let deployment: PlannedDeployment;
let app: PlannedResource;
let origin: string;
beforeAllCompiled(() => {
  deployment = plan({ EXTRA_REDIRECT_URIS: ' http://localhost:7071/api/auth/callback, ,' });
  app = single(deployment, 'Microsoft.Graph/applications');
  const site = single(deployment, 'Microsoft.Web/sites');
  origin = `https://<${site.type}/${site.name}.defaultHostName>`;
});

describeCompiled('the app registration', () => {
  it('is the GA Microsoft Graph extension, v1.0 types', () => {
    expect(app.apiVersion).toBe('v1.0');
  });

  it('has a uniqueName (its alternate key, so redeploying updates it) and a display name', () => {
    expect(at(app, 'properties.uniqueName')).toMatch(/^entra-signin-[a-z0-9]{13}$/);
    expect(at(app, 'properties.displayName')).toBe('Entra sign-in (ci)');
  });

  it('is single-tenant unless the deployment asks otherwise', () => {
    expect(at(app, 'properties.signInAudience')).toBe('AzureADMyOrg');
    const multi = single(plan({ ENTRA_SIGN_IN_AUDIENCE: 'AzureADMultipleOrgs' }), app.type);
    expect(at(multi, 'properties.signInAudience')).toBe('AzureADMultipleOrgs');
  });

  it('lists the deployer among its owners, as does its service principal (redeploys with OwnedBy)', () => {
    const servicePrincipal = single(deployment, 'Microsoft.Graph/servicePrincipals');
    const owners = { relationships: [AZURE.deployerObjectId] };

    expect(at(app, 'properties.owners')).toEqual(owners);
    expect(at(servicePrincipal, 'properties.owners')).toEqual(owners);
  });

  it('registers the callback and the post-logout page on the site host, then the extra URIs', () => {
    expect(at(app, 'properties.web.redirectUris')).toEqual([
      `${origin}${routePath(routes.callback)}`,
      `${origin}${examplePath('demo')}`,
      'http://localhost:7071/api/auth/callback',
    ]);
  });

  it('uses the authorization code flow only (no implicit grant), with no password or key', () => {
    expect(at(app, 'properties.web.implicitGrantSettings')).toEqual({
      enableAccessTokenIssuance: false,
      enableIdTokenIssuance: false,
    });
    expect(at(app, 'properties')).not.toHaveProperty('passwordCredentials');
    expect(at(app, 'properties')).not.toHaveProperty('keyCredentials');
  });

  it('asks Microsoft Graph for exactly the scopes the app requests (DEFAULT_SCOPES, and User.Read for /api/profile and the group-overage lookup)', () => {
    const apiScopes = [...new Set([...PROFILE_SCOPES, ...GROUPS_GRAPH_SCOPES])];
    expect(at(app, 'properties.requiredResourceAccess')).toEqual([
      {
        resourceAppId: MICROSOFT_GRAPH_APP_ID,
        resourceAccess: [...DEFAULT_SCOPES, ...apiScopes].map((scope) => ({
          id: GRAPH_SCOPE_IDS[scope],
          type: 'Scope',
        })),
      },
    ]);
  });

  it('has a service principal for its appId', () => {
    const servicePrincipal = single(deployment, 'Microsoft.Graph/servicePrincipals');

    expect(String(at(servicePrincipal, 'properties.appId'))).toBe(`<${app.id}.appId>`);
  });
});

describeCompiled('the federated identity credential', () => {
  let credential: PlannedResource;
  let identity: PlannedResource;
  beforeAll(() => {
    credential = single(deployment, 'Microsoft.Graph/applications/federatedIdentityCredentials');
    identity = single(deployment, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  });

  it("trusts the function app's managed identity for this tenant's token exchange", () => {
    expect(at(credential, 'properties')).toMatchObject({
      name: `${String(at(app, 'properties.uniqueName'))}/function-app-identity`,
      audiences: ['api://AzureADTokenExchange'],
      issuer: `https://login.microsoftonline.com/${AZURE.tenantId}/v2.0`,
    });
    expect(String(at(credential, 'properties.subject'))).toBe(
      `<${identity.type}/${identity.name}.principalId>`,
    );
  });

  it('names the same identity the function app runs as', () => {
    const site = single(deployment, 'Microsoft.Web/sites');

    expect(Object.keys(at(site, 'identity.userAssignedIdentities') as object)).toEqual([
      identity.id,
    ]);
  });
});

describeCompiled('who may do what (app roles, the API, groups)', () => {
  interface AppRole {
    id: string;
    value: string;
    allowedMemberTypes: string[];
    isEnabled: boolean;
  }
  const roles = () => at(app, 'properties.appRoles') as AppRole[];

  it('declares the app roles the code requires: Admin and Reader for users, the daemon role for apps', () => {
    const byValue = Object.fromEntries(roles().map((r) => [r.value, r.allowedMemberTypes]));
    expect(byValue).toEqual({
      [ADMIN_ROLE]: ['User'],
      Reader: ['User'],
      [DAEMON_ROLE]: ['Application'],
    });
    expect(roles().every((r) => r.isEnabled)).toBe(true);
  });

  it('gives each role and the scope a distinct GUID that stays the same across deployments', () => {
    const ids = [
      ...roles().map((r) => r.id),
      ...(at(app, 'properties.api.oauth2PermissionScopes') as { id: string }[]).map((s) => s.id),
    ];
    expect(
      ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const again = single(plan({ EXTRA_REDIRECT_URIS: '' }), app.type);
    expect((at(again, 'properties.appRoles') as AppRole[]).map((r) => r.id)).toEqual(
      roles().map((r) => r.id),
    );
  });

  it('exposes the API with the delegated scope users grant, v2.0 access tokens (aud = client id), and idtyp', () => {
    expect(at(app, 'properties.api.requestedAccessTokenVersion')).toBe(2);
    expect(at(app, 'properties.api.oauth2PermissionScopes')).toEqual([
      expect.objectContaining({ value: API_SCOPE, type: 'User', isEnabled: true }),
    ]);
    expect(at(app, 'properties.optionalClaims.accessToken')).toEqual([
      expect.objectContaining({ name: 'idtyp' }),
    ]);
  });

  it('asks Entra for the groups claim (security groups)', () => {
    expect(at(app, 'properties.groupMembershipClaims')).toBe('SecurityGroup');
  });
});
