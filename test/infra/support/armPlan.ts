/**
 * What a planned deployment is made of (armTemplate.ts produces it), ids as Resource Manager builds
 * them, and the queries the tests use.
 */

export interface AzureContext {
  subscriptionId: string;
  tenantId: string;
  /** Object id of whoever runs the deployment: deployer().objectId. */
  deployerObjectId: string;
  location: string;
}

export interface PlannedResource {
  /** Module path from the root: '' for main.bicep itself, 'api', 'rbac', ... */
  deployment: string;
  /** Symbolic name (languageVersion 2.0 templates, e.g. the Graph resources), when there is one. */
  symbol?: string;
  /** Type without API version: 'Microsoft.Web/sites'. */
  type: string;
  apiVersion: string;
  /** Resource name ('' for Graph resources, which have none). */
  name: string;
  /** Resource id, or a label for Graph resources. */
  id: string;
  deployed: boolean;
  scope?: string;
  body: Record<string, unknown>;
}

export interface PlannedDeployment {
  name: string;
  resourceGroup?: string;
  outputs: Record<string, unknown>;
  resources: PlannedResource[];
  deployments: PlannedDeployment[];
}

export function resourceId(scope: string, type: string, names: string[]): string {
  const [namespace, ...types] = type.split('/');
  if (types.length !== names.length)
    throw new Error(`resource id of ${type} needs ${types.length} names, got ${names.join('/')}`);
  return `${scope}/providers/${namespace}/${types.map((t, i) => `${t}/${names[i]}`).join('/')}`;
}

/** 'Microsoft.Web/sites/func-x' from a full resource id: short, readable labels for unknowns. */
export function labelOf(id: string): string {
  const tail = id.split('/providers/').at(-1) ?? id;
  const [namespace, ...rest] = tail.split('/');
  const types = rest.filter((_, i) => i % 2 === 0);
  const names = rest.filter((_, i) => i % 2 === 1);
  return `${namespace}/${types.join('/')}/${names.join('/')}`;
}

/** Every resource of a planned deployment and its modules, depth first. */
export function allResources(plan: PlannedDeployment): PlannedResource[] {
  return [...plan.resources, ...plan.deployments.flatMap(allResources)];
}

/** A module's planned deployment by path ('api', or '' for main.bicep). */
export function findDeployment(plan: PlannedDeployment, path: string): PlannedDeployment {
  const search = (p: PlannedDeployment): PlannedDeployment | undefined =>
    p.name === path ? p : p.deployments.map(search).find(Boolean);
  const found = search(plan);
  if (!found) throw new Error(`no module deployment '${path}'`);
  return found;
}
