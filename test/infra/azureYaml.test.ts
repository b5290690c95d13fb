import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './support/bicepCli';
import { at, describeCompiled, plan, single } from './support/plannedInfra';

type YamlMap = { [key: string]: string | YamlMap };

/**
 * Reads the subset of YAML that azure.yaml uses: nested maps of plain scalars, by indentation, with
 * comments. Anything else (lists, flow style, multi-line scalars) throws, so the test fails loudly
 * rather than misreading (no YAML dependency for one small file).
 */
function readYamlMaps(text: string): YamlMap {
  const root: YamlMap = {};
  const stack: { indent: number; map: YamlMap }[] = [{ indent: -1, map: root }];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trimEnd();
    if (!line.trim()) continue;
    const match = /^( *)([A-Za-z0-9_.-]+):(?: +(.*))?$/.exec(line);
    if (!match) throw new Error(`azure.yaml: unsupported line for this reader: ${raw}`);
    const [, spaces = '', key = '', value] = match;
    while ((stack.at(-1)?.indent ?? -1) >= spaces.length) stack.pop();
    const parent = stack.at(-1)?.map;
    if (!parent) throw new Error(`azure.yaml: no parent map for ${raw}`);
    if (value === undefined) {
      const child: YamlMap = {};
      parent[key] = child;
      stack.push({ indent: spaces.length, map: child });
    } else {
      parent[key] = value.replace(/^(['"])(.*)\1$/, '$2');
    }
  }
  return root;
}

const azureYaml = readYamlMaps(readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8'));
const services = azureYaml.services as YamlMap;

/** `$NAME` and `$env:NAME` in the hooks, `azd env get-value NAME` in the docs: what azd must have. */
function environmentValuesUsed(): Map<string, string> {
  const used = new Map<string, string>();
  const hooks = JSON.stringify(azureYaml.hooks ?? {});
  for (const [, name] of hooks.matchAll(/\$(?:env:)?([A-Z][A-Z0-9_]+)/g))
    used.set(name as string, 'azure.yaml');
  for (const doc of ['README.md', 'infra/DEPLOY.md']) {
    const text = readFileSync(path.join(ROOT, doc), 'utf8');
    for (const [, name] of text.matchAll(/azd env get-value ([A-Z][A-Z0-9_]+)/g))
      used.set(name as string, doc);
  }
  return used;
}

describe('azure.yaml', () => {
  it('declares one service: the TypeScript function app, deployed from dist/ as built locally', () => {
    expect(services).toEqual({
      api: {
        project: '.',
        language: 'ts',
        host: 'function',
        dist: 'dist',
        remoteBuild: 'false',
      },
    });
  });

  it('names the template it was made from (metadata.template)', () => {
    expect(azureYaml.metadata).toEqual({
      template: expect.stringMatching(/^[\w-]+@\d+\.\d+\.\d+$/),
    });
  });

  it('sets the app ID URI api://<client id> after provisioning, on both OSes, without stopping azd up on failure', () => {
    const hook = (azureYaml.hooks as YamlMap).postprovision as YamlMap;
    for (const os of ['posix', 'windows']) {
      const block = hook[os] as YamlMap;
      expect(block.continueOnError).toBe('true');
      const clientId = os === 'posix' ? '$AUTH_CLIENT_ID' : '$env:AUTH_CLIENT_ID';
      expect(block.run).toContain(
        `az ad app update --id ${os === 'posix' ? `"${clientId}"` : clientId} --identifier-uris "api://${clientId}"`,
      );
    }
  });

  it('when the reader meets YAML it does not support, then it says so', () => {
    expect(() => readYamlMaps('services:\n  - api\n')).toThrow(/unsupported/);
  });
});

describeCompiled('azure.yaml and the docs against the compiled template', () => {
  it('name the service the function app is tagged with (azd-service-name)', () => {
    const site = single(plan(), 'Microsoft.Web/sites');

    expect(Object.keys(services)).toEqual([
      (at(site, 'tags') as Record<string, string>)['azd-service-name'],
    ]);
  });

  it('use only environment values that main.bicep outputs', () => {
    const outputs = Object.keys(plan().outputs);
    const used = environmentValuesUsed();

    expect(used.size).toBeGreaterThanOrEqual(4);
    expect([...used].filter(([name]) => !outputs.includes(name))).toEqual([]);
  });

  it('get each output once: no duplicate under another name', () => {
    const values = Object.values(plan().outputs).map(String);
    const duplicates = values.filter((v, i) => values.indexOf(v) !== i);

    // The function app name is both azd's SERVICE_API_NAME and the quickstarts' AZURE_FUNCTION_NAME.
    expect(duplicates).toEqual([plan().outputs.SERVICE_API_NAME]);
  });
});
