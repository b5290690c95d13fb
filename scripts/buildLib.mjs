// Builds lib/, what `npm pack` ships: the library (src/index.ts) as one CommonJS file with its type
// declarations, and the dev host, the emulator and the `entra-functions-dev` command as plain-node
// bundles in lib/dev/ (no tsx at run time).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';

const LIB = 'lib';
rmSync(LIB, { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
};

// The library: its dependencies stay require() calls, resolved in the app's node_modules;
// @azure/functions is the app's own copy (a peer dependency).
await build({
  ...common,
  entryPoints: ['src/index.ts'],
  outfile: `${LIB}/index.js`,
  packages: 'external',
});

const declarations = spawnSync(
  process.execPath,
  ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.lib.json'],
  {
    stdio: 'inherit',
  },
);
if (declarations.status !== 0) process.exit(declarations.status ?? 1);

// The dev tools: everything bundled except what an app installs itself (optional peer
// dependencies): oidc-provider for the emulator, azurite (started from its own package).
const devExternal = ['oidc-provider', 'azurite'];
await build({
  ...common,
  entryPoints: { serve: 'dev/serve.ts', start: 'dev/start.ts', emulator: 'dev/emulator/main.ts' },
  outdir: `${LIB}/dev`,
  external: devExternal,
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(`${LIB}/dev/start.js`, 0o755);
console.log(`built ${LIB}/: index.js and its declarations, dev/{serve,start,emulator}.js`);
