/**
 * The deployment the infra tests look at: infra/ compiled by the real Bicep CLI, then planned with the
 * parameters azd would pass (main.parameters.json with azd's `${VAR=default}` substitution) in a
 * made-up subscription. Without a CLI the ARM checks skip (bicepCompile.test.ts says how to get one).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  allResources,
  type AzureContext,
  findDeployment,
  planDeployment,
  type PlannedDeployment,
  type PlannedResource,
} from './armTemplate';
import { compiledInfra, INFRA } from './bicepCli';

export const AZURE: AzureContext = {
  subscriptionId: '11111111-1111-1111-1111-111111111111',
  tenantId: '22222222-2222-2222-2222-222222222222',
  deployerObjectId: '33333333-3333-3333-3333-333333333333',
  location: 'westeurope',
};

/** What azd sets before it substitutes main.parameters.json. */
const AZD_ENVIRONMENT: Record<string, string> = {
  AZURE_ENV_NAME: 'ci',
  AZURE_LOCATION: AZURE.location,
};

export const { compilation, skipped } = compiledInfra();
/** `describe` when the template was compiled, else `describe.skip`. */
export const describeCompiled = compilation ? describe : describe.skip;
/** `beforeAll` for what needs the compiled template (nothing to prepare when it is skipped). */
export const beforeAllCompiled = (prepare: () => void): void => {
  if (compilation) beforeAll(prepare);
};

export interface ParameterFile {
  parameters: Record<string, { value: unknown }>;
}
export const parameterFile = JSON.parse(
  readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8'),
) as ParameterFile;

/** azd's substitution: `${NAME}` from its environment (empty when unset), `${NAME=default}`. */
export function azdParameters(env: Record<string, string> = {}): Record<string, unknown> {
  const values = { ...AZD_ENVIRONMENT, ...env };
  const substitute = (text: string) =>
    text.replace(/\$\{(\w+)(?:=([^}]*))?\}/g, (_, name: string, fallback?: string) =>
      values[name] !== undefined ? (values[name] as string) : (fallback ?? ''),
    );
  return Object.fromEntries(
    Object.entries(parameterFile.parameters).map(([name, { value }]) => [
      name,
      typeof value === 'string' ? substitute(value) : value,
    ]),
  );
}

export function template(): object {
  if (!compilation) throw new Error(skipped ?? 'not compiled');
  return compilation.template;
}

/** The planned deployment for azd's parameters (plus `env`, as `azd env set` would add). */
export function plan(env: Record<string, string> = {}): PlannedDeployment {
  return planDeployment(template(), azdParameters(env), AZURE);
}

export { allResources, findDeployment };

/** The one deployed resource of a type (optionally in one module). */
export function single(deployment: PlannedDeployment, type: string): PlannedResource {
  const found = allResources(deployment).filter((r) => r.type === type && r.deployed);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as PlannedResource;
}

/** A property by dotted path of a resource body: at(site, 'properties.httpsOnly'). */
export function at(resource: PlannedResource, dotted: string): unknown {
  let value: unknown = resource.body;
  for (const key of dotted.split('.'))
    value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}
