import { bicepFilesUnder, INFRA, loadBicep, parseBicep, syntaxProblems } from './bicep';

// No Bicep compiler exists on these machines: tree-sitter-bicep checks the syntax. It does not know the
// `extension` declaration, so bicep.ts blanks exactly those lines before parsing (see EXTENSION_LINE).
const files = bicepFilesUnder(INFRA);

describe('Bicep syntax (tree-sitter-bicep)', () => {
  it('finds the entry point and every module', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'infra/main.bicep',
        'infra/app/api.bicep',
        'infra/app/entra.bicep',
        'infra/app/identity.bicep',
        'infra/app/monitoring.bicep',
        'infra/app/rbac.bicep',
        'infra/app/storage.bicep',
      ]),
    );
  });

  it.each(files)('%s parses without ERROR or MISSING nodes', async (file) => {
    expect(syntaxProblems(await loadBicep(file))).toEqual([]);
  });

  it.each(files)(
    '%s has its extension lines blanked only where it declares Graph resources',
    async (file) => {
      const bicep = await loadBicep(file);
      const usesGraph = /'Microsoft\.Graph\//.test(bicep.source);

      expect(bicep.extensions).toEqual(usesGraph ? ['microsoftGraphV1'] : []);
      expect(bicep.blankedLines).toHaveLength(bicep.extensions.length);
    },
  );

  it('when a file has a syntax error, then the check reports where', async () => {
    const broken = await parseBicep(
      [
        'param name string',
        "resource site 'Microsoft.Web/sites@2024-04-01' = {",
        '  name: name',
      ].join('\n'),
    );

    expect(syntaxProblems(broken)).not.toEqual([]);
  });

  it('when an extension line is blanked, then nothing else of the file is', async () => {
    const source = "extension microsoftGraphV1\nparam extensionName string = 'x'\n";

    const parsed = await parseBicep(source);

    expect(parsed.extensions).toEqual(['microsoftGraphV1']);
    expect(parsed.blankedLines).toEqual([1]);
    expect(syntaxProblems(parsed)).toEqual([]);
    expect(parsed.root.text.trimStart()).toBe("param extensionName string = 'x'\n");
  });
});
