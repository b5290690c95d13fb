// Builds dist/, the one folder azd deploys (azure.yaml `dist: dist`): the example app (example/src)
// bundled by esbuild with every dependency inside, the library included, host.json, a package.json whose main is the bundle (no dependencies: the host
// runs no npm install, and nothing needs one) and .funcignore, which azd applies when it zips dist/.
import { build } from 'esbuild';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const DIST = 'dist';
const BUNDLE = 'main.js';
// @azure/identity is a third of the bundle and only a managed identity (or a table endpoint)
// needs it: it ships as a second file that the bundle requires on first use, so a
// connection-string setup never reads or parses it.
const IDENTITY_BUNDLE = 'azure-identity.js';
const identityApart = {
  name: 'azure-identity-apart',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@azure\/identity$/ }, () => ({
      path: `./${IDENTITY_BUNDLE}`,
      external: true,
    }));
  },
};

rmSync(DIST, { recursive: true, force: true });
const result = await build({
  entryPoints: ['example/src/index.ts'],
  // The example imports the library by its package name, as any app does: here, its sources.
  alias: { 'entra-functions-signin': './src/index.ts' },
  outfile: `${DIST}/${BUNDLE}`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // For local runs and debugging; .funcignore keeps it out of the deployed package.
  sourcemap: 'linked',
  // Injected by the Functions host at run time; not an npm package.
  external: ['@azure/functions-core'],
  plugins: [identityApart],
  logLevel: 'warning',
  metafile: true,
});
const identity = await build({
  entryPoints: ['@azure/identity'],
  outfile: `${DIST}/${IDENTITY_BUNDLE}`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  metafile: true,
});

const project = JSON.parse(readFileSync('package.json', 'utf8'));
const deployed = {
  name: project.name,
  version: project.version,
  private: true,
  description: 'The deployable bundle (built by scripts/bundle.mjs; not edited by hand).',
  main: BUNDLE,
};
writeFileSync(`${DIST}/package.json`, `${JSON.stringify(deployed, null, 2)}\n`);
copyFileSync('host.json', `${DIST}/host.json`);
copyFileSync('.funcignore', `${DIST}/.funcignore`);

const mib = (r) =>
  (Object.values(r.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0) / 1024 / 1024).toFixed(1);
console.log(
  `built ${DIST}/: ${BUNDLE} (${mib(result)} MiB with source map), ${IDENTITY_BUNDLE} (${mib(identity)} MiB), host.json, package.json`,
);
