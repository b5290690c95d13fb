import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileInfra, findBicep, INFRA } from './support/bicepCli';
import { compilation, describeCompiled, skipped } from './support/plannedInfra';

// The one line a machine without a Bicep CLI prints (REQUIRE_BICEP=1 fails in plannedInfra instead).
if (skipped) console.warn(skipped);

describeCompiled('bicep build and bicep lint of every file in infra/', () => {
  const found = () => compilation as NonNullable<typeof compilation>;

  it('ran with the real CLI (version in the log)', () => {
    const count = (level: string) => found().diagnostics.filter((d) => d.level === level).length;
    console.info(
      `${found().version}: built infra/main.bicep and linted ${found().linted.length} files: ` +
        `${count('Error')} errors, ${count('Warning')} warnings (Graph extension ${found().graphExtension})`,
    );
    expect(found().version).toMatch(/^Bicep CLI version \d+\.\d+\.\d+/);
  });

  it('linted main.bicep and every module', () => {
    expect(found().linted).toEqual(
      expect.arrayContaining([
        'main.bicep',
        'app/api.bicep',
        'app/appSettings.bicep',
        'app/entra.bicep',
        'app/identity.bicep',
        'app/monitoring.bicep',
        'app/rbac.bicep',
        'app/storage.bicep',
      ]),
    );
  });

  it('reports no error and no warning', () => {
    expect(found().diagnostics).toEqual([]);
  });

  it('compiled a subscription-scoped template with the Graph extension', () => {
    const template = found().template as { $schema: string; metadata: object };

    expect(template.$schema).toContain('subscriptionDeploymentTemplate.json');
    expect(JSON.stringify(template)).toContain('"provider":"MicrosoftGraph"');
  });

  it('when a file has a type error, then the diagnostics say where', () => {
    const cli = findBicep() as string;
    const broken = mkdtempSync(path.join(os.tmpdir(), 'bicep-broken-'));
    try {
      writeFileSync(
        path.join(broken, 'bicepconfig.json'),
        readFileSync(path.join(INFRA, 'bicepconfig.json')),
      );
      writeFileSync(
        path.join(broken, 'main.bicep'),
        [
          "resource site 'Microsoft.Web/sites@2024-04-01' = {",
          "  name: 'x'",
          "  location: 'westeurope'",
          '  properties: { httpsOnlyy: true }',
          '}',
          '',
        ].join('\n'),
      );

      const result = compileInfra(cli, broken);

      expect(result.diagnostics).toEqual([
        expect.objectContaining({ file: 'main.bicep', line: 4, level: 'Warning', code: 'BCP089' }),
      ]);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('bicepconfig.json', () => {
  it('keeps the registry reference azd restores the Graph extension from', () => {
    const config = JSON.parse(readFileSync(path.join(INFRA, 'bicepconfig.json'), 'utf8')) as {
      extensions?: Record<string, string>;
    };

    expect(config.extensions).toEqual({
      microsoftGraphV1: 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0',
    });
  });
});
