import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Node } from 'web-tree-sitter';
import {
  type Deployment,
  INFRA,
  loadDeployment,
  moduleInstance,
  modules,
  outputs,
  params,
  prop,
  resources,
} from './bicep';

interface ParametersFile {
  parameters: Record<string, { value: unknown }>;
}

const parametersJson = JSON.parse(
  readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8'),
) as ParametersFile;

const MODULES = ['api', 'entra', 'identity', 'monitoring', 'rbac', 'storage'];

/** The value azd would substitute when nothing is set: `${X=default}` gives default, `${X}` nothing. */
function fixedPart(value: string): string | undefined {
  const substitution = /^\$\{\w+(?:=(.*))?\}$/.exec(value);
  return substitution ? substitution[1] : value;
}

let deployment: Deployment;
beforeAll(async () => {
  deployment = await loadDeployment();
});

describe('main.bicep parameters and main.parameters.json', () => {
  it('gives every parameter without a default a value', () => {
    const unset = [...params(deployment.main).values()]
      .filter((p) => !p.optional && !(p.name in parametersJson.parameters))
      .map((p) => p.name);

    expect(unset).toEqual([]);
  });

  it('gives no value to a parameter main.bicep does not declare', () => {
    const declared = params(deployment.main);

    expect(Object.keys(parametersJson.parameters).filter((name) => !declared.has(name))).toEqual(
      [],
    );
  });

  it('takes the environment, location and principal from azd', () => {
    const values = Object.fromEntries(
      Object.entries(parametersJson.parameters).map(([name, p]) => [name, p.value]),
    );

    expect(values).toMatchObject({
      environmentName: '${AZURE_ENV_NAME}',
      location: '${AZURE_LOCATION}',
      principalId: '${AZURE_PRINCIPAL_ID}',
    });
  });

  it('gives parameters with @allowed only values they accept (azd ${NAME=default} included)', () => {
    const declared = params(deployment.main);
    const rejected = Object.entries(parametersJson.parameters).flatMap(([name, { value }]) => {
      const allowed = declared.get(name)?.allowed;
      const fixed = typeof value === 'string' ? fixedPart(value) : undefined;
      return allowed && fixed !== undefined && !allowed.includes(fixed) ? [`${name}=${fixed}`] : [];
    });

    expect(rejected).toEqual([]);
  });

  it('lets azd prompt for the location (azd metadata type location)', () => {
    expect(deployment.main.source).toMatch(
      /@metadata\(\{\s*azd: \{\s*type: 'location'\s*\}\s*\}\)\s*param location string/,
    );
  });
});

describe('module parameters', () => {
  it('uses only local modules, each of which exists', () => {
    expect(
      modules(deployment.main)
        .filter((use) => !use.file)
        .map((use) => use.source),
    ).toEqual([]);
    expect([...deployment.modules.keys()].sort()).toEqual(MODULES);
  });

  it.each(MODULES)('passes to module %s only parameters it declares', (symbol) => {
    const instance = moduleInstance(deployment, symbol);
    const declared = params(instance.file);

    expect([...instance.use.params.keys()].filter((name) => !declared.has(name))).toEqual([]);
  });

  it.each(MODULES)('passes to module %s every parameter it requires', (symbol) => {
    const instance = moduleInstance(deployment, symbol);
    const required = [...params(instance.file).values()].filter((p) => !p.optional);

    expect(required.map((p) => p.name).filter((name) => !instance.use.params.has(name))).toEqual(
      [],
    );
  });

  it('reads only outputs the modules declare (<module>.outputs.<name>)', () => {
    const unknown: string[] = [];
    for (const member of deployment.main.root.descendantsOfType('member_expression')) {
      const [symbol, outputsWord, output] = member.text.split('.');
      const instance = symbol ? deployment.modules.get(symbol) : undefined;
      if (!instance || outputsWord !== 'outputs' || !output) continue;
      if (!outputs(instance.file).has(output)) unknown.push(member.text);
    }

    expect(unknown).toEqual([]);
  });

  it('finds every abbreviation it uses in abbreviations.json', () => {
    const abbreviations = JSON.parse(
      readFileSync(path.join(INFRA, 'abbreviations.json'), 'utf8'),
    ) as Record<string, string>;
    const used = deployment.main.root
      .descendantsOfType('member_expression')
      .map((m: Node) => /^abbrs\.(\w+)$/.exec(m.text)?.[1])
      .filter((key): key is string => key !== undefined);

    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((key) => !(key in abbreviations))).toEqual([]);
  });

  it('puts every module in the resource group main.bicep creates', () => {
    const rg = resources(deployment.main).find((r) =>
      r.type.startsWith('Microsoft.Resources/resourceGroups@'),
    );

    expect(rg).toBeDefined();
    const elsewhere = [...deployment.modules.values()]
      .filter((m) => prop(m.use.body, 'scope')?.text !== rg?.symbol)
      .map((m) => m.use.symbol);
    expect(elsewhere).toEqual([]);
  });
});

describe('main.bicep outputs', () => {
  it('include what azd and the README use', () => {
    expect([...outputs(deployment.main).keys()]).toEqual(
      expect.arrayContaining([
        'AZURE_LOCATION',
        'AZURE_TENANT_ID',
        'AZURE_RESOURCE_GROUP',
        'RESOURCE_GROUP',
        'AZURE_FUNCTION_NAME',
        'SERVICE_API_NAME',
        'SERVICE_API_URI',
        'AUTH_LOGIN_URL',
        'AUTH_CLIENT_ID',
        'AUTH_REDIRECT_URI',
        'AUTH_STORAGE_TABLE_ENDPOINT',
      ]),
    );
  });
});
