import type { PlannedDeployment, PlannedResource } from './support/armTemplate';
import {
  allResources,
  AZURE,
  at,
  beforeAllCompiled,
  describeCompiled,
  plan,
  single,
} from './support/plannedInfra';

/** Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
const ROLES = {
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;
const ROLE_NAMES = new Map<string, string>(Object.entries(ROLES).map(([name, id]) => [id, name]));

interface Assignment {
  role: string;
  scope: string;
  principal: string;
  principalType: unknown;
}

let deployment: PlannedDeployment;
let account: PlannedResource;
let insights: PlannedResource;
let identityPrincipal: string;

/** Each deployed role assignment as role name, scope resource and principal. */
function assignments(of: PlannedDeployment): Assignment[] {
  return allResources(of)
    .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments' && r.deployed)
    .map((r) => {
      const definition = String(at(r, 'properties.roleDefinitionId'));
      const guid = definition.split('/').at(-1) ?? '';
      const expectedDefinition = `/subscriptions/${AZURE.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
      return {
        role:
          definition === expectedDefinition
            ? (ROLE_NAMES.get(guid) ?? `unknown ${guid}`)
            : definition,
        scope:
          r.scope === account.id ? 'storage' : r.scope === insights.id ? 'insights' : `${r.scope}`,
        principal: String(at(r, 'properties.principalId')),
        principalType: at(r, 'properties.principalType'),
      };
    });
}

beforeAllCompiled(() => {
  deployment = plan();
  account = single(deployment, 'Microsoft.Storage/storageAccounts');
  insights = single(deployment, 'Microsoft.Insights/components');
  const identity = single(deployment, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  identityPrincipal = `<${identity.type}/${identity.name}.principalId>`;
});

describeCompiled('role assignments of the function app identity', () => {
  it('are exactly table data and runtime blobs on the storage account, and telemetry', () => {
    const identity = assignments(deployment).filter((a) => a.principal === identityPrincipal);

    expect(identity).toEqual(
      expect.arrayContaining([
        {
          role: 'storageTableDataContributor',
          scope: 'storage',
          principal: identityPrincipal,
          principalType: 'ServicePrincipal',
        },
        {
          role: 'storageBlobDataOwner',
          scope: 'storage',
          principal: identityPrincipal,
          principalType: 'ServicePrincipal',
        },
        {
          role: 'monitoringMetricsPublisher',
          scope: 'insights',
          principal: identityPrincipal,
          principalType: 'ServicePrincipal',
        },
      ]),
    );
    expect(identity).toHaveLength(3);
  });

  it('do not include queue access, which HTTP and timer triggers do not need', () => {
    expect(assignments(deployment).filter((a) => a.role === 'storageQueueDataContributor')).toEqual(
      [],
    );
  });

  it('have names derived from scope, principal and role, distinct from each other', () => {
    const names = allResources(deployment)
      .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')
      .map((r) => r.name);

    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/);
  });
});

describeCompiled('role assignments of the developer', () => {
  it('default to whoever deploys: table data and telemetry, no principal type (user or pipeline)', () => {
    const developer = assignments(deployment).filter((a) => a.principal === AZURE.deployerObjectId);

    expect(developer).toEqual(
      expect.arrayContaining([
        {
          role: 'storageTableDataContributor',
          scope: 'storage',
          principal: AZURE.deployerObjectId,
          principalType: undefined,
        },
        {
          role: 'monitoringMetricsPublisher',
          scope: 'insights',
          principal: AZURE.deployerObjectId,
          principalType: undefined,
        },
      ]),
    );
    expect(developer).toHaveLength(2);
  });

  it('cover every principal of the deployment', () => {
    expect(
      assignments(deployment).filter(
        (a) => ![identityPrincipal, AZURE.deployerObjectId].includes(a.principal),
      ),
    ).toEqual([]);
  });
});
