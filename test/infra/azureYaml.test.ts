import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type Deployment,
  fullType,
  loadDeployment,
  moduleInstance,
  objectKeys,
  need,
  prop,
  render,
  resources,
  ROOT,
} from './bicep';

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
    const parent = need(stack.at(-1), 'a parent map').map;
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

let deployment: Deployment;
beforeAll(async () => {
  deployment = await loadDeployment();
});

describe('azure.yaml', () => {
  it('declares one service: the TypeScript function app at the repository root', () => {
    expect(azureYaml.name).toEqual(expect.any(String));
    expect(azureYaml.services).toEqual({
      api: { project: '.', language: 'ts', host: 'function', remoteBuild: 'false' },
    });
  });

  it('names the service the function app is tagged with (azd-service-name)', () => {
    const api = moduleInstance(deployment, 'api');
    const site = resources(api.file).find((r) => fullType(r) === 'Microsoft.Web/sites');
    const tags = objectKeys(need(site && prop(site.body, 'tags'), 'site tags'), api.scope);
    const tag = need(tags.get('azd-service-name'), 'azd-service-name tag');

    expect(Object.keys(azureYaml.services as YamlMap)).toEqual([render(tag.node, tag.scope)]);
  });

  it('when building locally (remoteBuild false), deploys the bundle npm run build makes', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      main?: string;
      scripts?: Record<string, string>;
    };
    const ignored = readFileSync(path.join(ROOT, '.funcignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/\/$/, ''));

    expect(pkg.scripts?.build).toEqual(expect.any(String));
    expect(pkg.main).toMatch(/^dist\//);
    expect(ignored).not.toEqual(expect.arrayContaining(['dist']));
    expect(ignored).not.toEqual(expect.arrayContaining(['host.json']));
    expect(ignored).not.toEqual(expect.arrayContaining(['package.json']));
  });

  it('when the reader meets YAML it does not support, then it says so', () => {
    expect(() => readYamlMaps('services:\n  - api\n')).toThrow(/unsupported/);
  });
});
