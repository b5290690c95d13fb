/** @type {import('jest').Config} */
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
];

const common = {
  transform: { '^.+\\.(t|mj|j)s$': swc },
  // jose is ESM-only; jest's module registry needs it as CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testEnvironment: 'node',
  // Built output (dist/package.json shares the package's name): not modules of the tests.
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/lib/'],
  // The example app imports the library by its package name, as a consumer does.
  moduleNameMapper: { '^entra-functions-signin$': '<rootDir>/src/index.ts' },
};

module.exports = {
  // Integration and browser tests start real processes; e2e files raise it further.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/infra/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
