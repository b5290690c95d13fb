import { evaluate, parseExpression, Unknown } from './support/armExpressions';
import { planDeployment } from './support/armTemplate';

const CONTEXT = {
  subscriptionId: 'sub',
  tenantId: 'tenant',
  deployerObjectId: 'deployer',
  location: 'westeurope',
};
const noHost = {
  call: (name: string) => {
    throw new Error(`unexpected ${name}()`);
  },
};

describe('the ARM expression evaluator', () => {
  it('reads strings with escaped quotes, property and index access, and lambdas', () => {
    const value = evaluate(
      parseExpression(
        "[createObject('a', filter(map(split('x, ,it''s', ','), lambda('s', trim(lambdaVariables('s')))), lambda('s', not(empty(lambdaVariables('s'))))))['a'][1]]",
      ),
      noHost,
    );

    expect(value).toBe("it's");
  });

  it('when a template uses a function it does not know, then it says which', () => {
    const template = {
      parameters: {},
      resources: [],
      outputs: { x: { value: "[dateTimeAdd('x')]" } },
    };

    expect(() => planDeployment(template, {}, CONTEXT)).toThrow(/datetimeadd\(\) is not supported/);
  });

  it('when a decision depends on a deploy-time value, then it refuses to guess', () => {
    const deployTime = { call: () => new Unknown('Microsoft.Web/sites/x.defaultHostName') };

    expect(() =>
      evaluate(parseExpression("[if(empty(reference('x')), 'a', 'b')]"), deployTime),
    ).toThrow(/depends on a deploy-time value/);
  });

  it('when a parameter value is not allowed, then planning fails as Resource Manager would', () => {
    const template = {
      parameters: { kind: { type: 'string', allowedValues: ['a'] } },
      resources: [],
      outputs: {},
    };

    expect(() => planDeployment(template, { kind: 'b' }, CONTEXT)).toThrow(
      /kind = "b" is not allowed/,
    );
  });
});
