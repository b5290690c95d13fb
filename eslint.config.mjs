// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

/** Imports each layer may not use: the architecture in DESIGN.md, enforced. */
const onlyAdaptersMayImport = (allowed) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          group: ['@azure/functions', '@azure/functions/*'],
          message: 'Only src/functions (and dev/) talk to @azure/functions.',
        },
        {
          group: ['@azure/data-tables', '@azure/msal-node', '@azure/identity'],
          message: 'Storage and identity SDKs live behind ports in src/adapters.',
        },
        ...(allowed === 'auth'
          ? [
              {
                group: ['**/adapters/**', '**/composition', '**/functions/**'],
                message: 'src/auth depends on ports only.',
              },
            ]
          : []),
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'lib/', 'coverage/', '.local/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      eqeqeq: 'error',
    },
  },
  { files: ['src/auth/**/*.ts', 'src/ports/**/*.ts'], rules: onlyAdaptersMayImport('auth') },
  { files: ['src/config.ts'], rules: onlyAdaptersMayImport('config') },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', URL: 'readonly' },
    },
    // Plain CommonJS files (the host's fixture app) load modules with require.
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
