// Bundles the deployable app into dist/main.js: one file, every dependency inside, so the
// Functions host loads it fast and the deployed package needs no node_modules.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
const result = await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  // Injected by the Functions host at run time; not an npm package.
  external: ['@azure/functions-core'],
  logLevel: 'warning',
  metafile: true,
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`bundled dist/main.js (${(bytes / 1024 / 1024).toFixed(1)} MiB with source map)`);
