import type { Node } from 'web-tree-sitter';
import {
  args,
  calleeName,
  compact,
  type Deployment,
  fullType,
  identifiersIn,
  literal,
  loadDeployment,
  type ModuleInstance,
  moduleInstance,
  prop,
  resources,
  variables,
} from './bicep';

/** Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
const ROLES = {
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;
const ROLE_NAMES = new Map<string, string>(Object.entries(ROLES).map(([name, id]) => [id, name]));

const STORAGE = 'Microsoft.Storage/storageAccounts';
const APP_INSIGHTS = 'Microsoft.Insights/components';

interface Assignment {
  symbol: string;
  /** Role name from ROLES, or the unknown GUID. */
  role: string;
  /** Full type of the resource the assignment is scoped to. */
  scope: string;
  principal: string;
  principalType: string;
  conditional: boolean;
  name: Node | undefined;
  roleVariable: string;
  scopeSymbol: string;
}

let deployment: Deployment;
let rbac: ModuleInstance;
let assignments: Assignment[];

beforeAll(async () => {
  deployment = await loadDeployment();
  rbac = moduleInstance(deployment, 'rbac');
  const all = resources(rbac.file);
  const vars = variables(rbac.file);
  assignments = all
    .filter((r) => fullType(r) === 'Microsoft.Authorization/roleAssignments')
    .map((r) => {
      // roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', <variable>)
      const definition = prop(r.body, 'properties.roleDefinitionId');
      const [definitionType, roleArg] =
        definition?.type === 'call_expression' &&
        calleeName(definition) === 'subscriptionResourceId'
          ? args(definition)
          : [];
      const roleVariable = roleArg?.text ?? '';
      const guid = literal(vars.get(roleVariable));
      const scopeSymbol = prop(r.body, 'scope')?.text ?? '';
      const scoped = all.find((s) => s.symbol === scopeSymbol);
      const principalType = prop(r.body, 'properties.principalType');
      return {
        symbol: r.symbol,
        role:
          literal(definitionType) === 'Microsoft.Authorization/roleDefinitions'
            ? (ROLE_NAMES.get(String(guid)) ?? `unknown ${String(guid)}`)
            : `unparsed ${compact(definition)}`,
        scope: scoped ? fullType(scoped) : `unknown scope ${scopeSymbol}`,
        principal: prop(r.body, 'properties.principalId')?.text ?? '',
        principalType: String(literal(principalType) ?? principalType?.text),
        conditional: r.condition !== undefined,
        name: prop(r.body, 'name'),
        roleVariable,
        scopeSymbol,
      };
    });
});

const summary = (a: Assignment) => `${a.role} on ${a.scope}`;

describe('role assignments of the function app identity', () => {
  it('are exactly table data, runtime blobs and telemetry', () => {
    const identity = assignments.filter((a) => a.principal === 'managedIdentityPrincipalId');

    expect(identity.map(summary).sort()).toEqual(
      [
        `storageTableDataContributor on ${STORAGE}`,
        `storageBlobDataOwner on ${STORAGE}`,
        `monitoringMetricsPublisher on ${APP_INSIGHTS}`,
      ].sort(),
    );
    expect(identity.filter((a) => a.conditional || a.principalType !== 'ServicePrincipal')).toEqual(
      [],
    );
  });

  it('do not include queue access, which HTTP and timer triggers do not need', () => {
    expect(assignments.filter((a) => a.role === 'storageQueueDataContributor')).toEqual([]);
  });

  it('name each role id variable after its role, with the built-in GUID', () => {
    const roleVariables = [...variables(rbac.file)].filter(([name]) => name.endsWith('RoleId'));

    expect(roleVariables.length).toBeGreaterThanOrEqual(3);
    for (const [name, value] of roleVariables) {
      const role = name.replace(/RoleId$/, '');
      expect({ name, guid: literal(value) }).toEqual({
        name,
        guid: ROLES[role as keyof typeof ROLES] ?? 'a role from ROLES',
      });
    }
  });

  it('give each assignment a deterministic name from its scope, principal and role', () => {
    for (const a of assignments) {
      const name = a.name;
      expect({ symbol: a.symbol, call: name && calleeName(name) }).toEqual({
        symbol: a.symbol,
        call: 'guid',
      });
      expect(name ? identifiersIn(name) : []).toEqual(
        expect.arrayContaining([a.scopeSymbol, a.principal, a.roleVariable]),
      );
    }
  });

  it('go to the identity and the resources main.bicep creates', () => {
    const passed = rbac.use.params;

    expect(compact(passed.get('managedIdentityPrincipalId'))).toBe('identity.outputs.principalId');
    expect(compact(passed.get('storageAccountName'))).toBe('storage.outputs.name');
    expect(compact(passed.get('applicationInsightsName'))).toBe(
      'monitoring.outputs.applicationInsightsName',
    );
  });
});

describe('role assignments of the deploying developer', () => {
  it('are only table data and telemetry, and only when a principal id is given', () => {
    const user = assignments.filter((a) => a.principal === 'userPrincipalId');

    expect(user.map(summary).sort()).toEqual(
      [
        `storageTableDataContributor on ${STORAGE}`,
        `monitoringMetricsPublisher on ${APP_INSIGHTS}`,
      ].sort(),
    );
    expect(user.filter((a) => !a.conditional)).toEqual([]);
    expect(compact(rbac.use.params.get('userPrincipalId'))).toBe('principalId');
  });

  it('cover every principal of the module', () => {
    expect(
      assignments.filter(
        (a) => !['managedIdentityPrincipalId', 'userPrincipalId'].includes(a.principal),
      ),
    ).toEqual([]);
  });
});
