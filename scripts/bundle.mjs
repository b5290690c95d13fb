// Builds dist/, the one folder azd deploys (azure.yaml `dist: dist`): the example app (example/src)
// bundled by esbuild with every dependency inside, the library included, host.json, a package.json whose main is the bundle (no dependencies: the host
// runs no npm install, and nothing needs one) and .funcignore, which azd applies when it zips dist/.
import { build } from 'esbuild';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const DIST = 'dist';
const BUNDLE = 'main.js';

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

const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(
  `built ${DIST}/: ${BUNDLE} (${(bytes / 1024 / 1024).toFixed(1)} MiB with source map), host.json, package.json`,
);
