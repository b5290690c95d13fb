import { compilation, describeCompiled, parameterFile, plan } from './support/plannedInfra';

interface DeclaredParameter {
  type: string;
  defaultValue?: unknown;
  nullable?: boolean;
  allowedValues?: unknown[];
}

const declared = () =>
  (compilation?.template as { parameters: Record<string, DeclaredParameter> }).parameters;

describeCompiled('main.bicep parameters and main.parameters.json', () => {
  it('give every parameter without a default a value, and no value to an undeclared one', () => {
    const parameters = declared();
    const given = Object.keys(parameterFile.parameters);

    expect(
      Object.entries(parameters)
        .filter(([name, p]) => !('defaultValue' in p) && !p.nullable && !given.includes(name))
        .map(([name]) => name),
    ).toEqual([]);
    expect(given.filter((name) => !(name in parameters))).toEqual([]);
  });

  it('take the environment name and location from azd', () => {
    expect(parameterFile.parameters).toMatchObject({
      environmentName: { value: '${AZURE_ENV_NAME}' },
      location: { value: '${AZURE_LOCATION}' },
    });
  });

  it("default the developer's principal to the deployer, as the azd quickstarts do", () => {
    expect(parameterFile.parameters).not.toHaveProperty('principalId');
    expect(declared().principalId?.defaultValue).toBe('[deployer().objectId]');
  });

  it('give string values only, each default one the template allows', () => {
    for (const [name, { value }] of Object.entries(parameterFile.parameters)) {
      const parameter = declared()[name];
      const fallback = /^\$\{\w+=([^}]*)\}$/.exec(String(value))?.[1];
      expect({ name, type: parameter?.type }).toEqual({ name, type: 'string' });
      if (fallback !== undefined && parameter?.allowedValues)
        expect({ name, allowed: parameter.allowedValues.includes(fallback) }).toEqual({
          name,
          allowed: true,
        });
    }
  });

  it('when an azd value is not allowed, then planning the deployment refuses it', () => {
    expect(() => plan({ ENTRA_SIGN_IN_AUDIENCE: 'PersonalMicrosoftAccount' })).toThrow(
      /signInAudience .* is not allowed/,
    );
  });
});
