/**
 * The real Bicep CLI, for the infra tests: where to find it, and `bicep build` / `bicep lint` of a
 * temporary copy of infra/ whose bicepconfig.json maps the Microsoft Graph extension to a local archive
 * (its registry, mcr.microsoft.com, is out of reach here). The compiled template is cached by the
 * content of infra/, so every test file of one run shares one compile.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const INFRA = path.join(ROOT, 'infra');

/** `REQUIRE_BICEP=1` (set by .ci/run): a missing CLI or a failed restore fails instead of skipping. */
export const BICEP_REQUIRED = process.env.REQUIRE_BICEP === '1';

export const HOW_TO_GET_BICEP =
  'Bicep CLI not found: the infra compile and ARM checks are skipped. Get it with ' +
  '`scripts/install-bicep.sh` (needs dotnet), `az bicep install`, or azd (which brings its own), ' +
  'or point BICEP_PATH at one.';

const GRAPH_TYPES = 'msgraph-bicep-types-v1.0-1.0.0';

/**
 * Where the Bicep CLI is: BICEP_PATH, `bicep` on PATH, the copies az and azd install, then the one
 * scripts/install-bicep.sh puts in .local/bicep/.
 */
export function findBicep(): string | undefined {
  const home = os.homedir();
  const azd = path.join(home, '.azd', 'bin');
  const candidates = [
    process.env.BICEP_PATH,
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'bicep')),
    path.join(home, '.azure', 'bin', 'bicep'),
    ...(existsSync(azd)
      ? readdirSync(azd)
          .filter((f) => f.startsWith('bicep'))
          .map((f) => path.join(azd, f))
      : []),
    path.join(
      ROOT,
      '.local',
      'bicep',
      'packages',
      'azure.bicep.commandline.linux-x64',
      '0.49.2',
      'tools',
      'bicep',
    ),
  ];
  return candidates.find((c): c is string => !!c && existsSync(c) && runs(c));
}

function runs(cli: string): boolean {
  return spawnSync(cli, ['--version'], { encoding: 'utf8' }).status === 0;
}

export function bicepVersion(cli: string): string {
  return execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * The Graph extension's types, vendored next to the project on the development machines
 * (GRAPH_TYPES_DIR overrides). Undefined elsewhere: the compile then restores from the registry.
 */
export function graphTypesDir(): string | undefined {
  const candidates = [
    process.env.GRAPH_TYPES_DIR,
    path.join(ROOT, '..', 'shared', 'vendor', GRAPH_TYPES),
    path.join('/work', 'shared', 'vendor', GRAPH_TYPES),
  ];
  return candidates.find((c): c is string => !!c && existsSync(path.join(c, 'index.json')));
}

export interface Diagnostic {
  file: string;
  line: number;
  level: 'Error' | 'Warning' | 'Info';
  code: string;
  message: string;
}

/** `path(12,5) : Warning BCP036: message [link]`, as bicep prints them on stderr. */
export function parseDiagnostics(output: string, base: string): Diagnostic[] {
  const pattern = /^(.+?)\((\d+),\d+\) : (Error|Warning|Info) ([\w-]+): (.*)$/gm;
  return [...output.matchAll(pattern)].map((m) => ({
    file: path.relative(base, m[1] ?? ''),
    line: Number(m[2]),
    level: m[3] as Diagnostic['level'],
    code: m[4] ?? '',
    message: (m[5] ?? '').replace(/ \[https:\/\/aka\.ms\/[^\]]+\]$/, ''),
  }));
}

export interface Compilation {
  /** The compiled ARM template of infra/main.bicep. */
  template: object;
  /** `bicep build` and `bicep lint` diagnostics of every .bicep file, paths relative to infra/. */
  diagnostics: Diagnostic[];
  /** Every .bicep file that was linted, relative to infra/. */
  linted: string[];
  version: string;
  /** How the Graph extension was restored. */
  graphExtension: 'offline' | 'registry';
}

function contentHash(dir: string, cli: string): string {
  const hash = createHash('sha256').update(cli);
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(dir, file);
    if (file.endsWith('.bicep') || file.endsWith('.json'))
      hash.update(file).update(readFileSync(full));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Compiles and lints a copy of `sourceDir` (infra/ unless given). Throws if the CLI cannot run. */
export function compileInfra(cli: string, sourceDir = INFRA): Compilation {
  const cacheDir = path.join(ROOT, '.local', 'bicep', 'build');
  const cacheFile = path.join(cacheDir, `${contentHash(sourceDir, cli)}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as Compilation;

  const work = mkdtempSync(path.join(os.tmpdir(), 'bicep-'));
  try {
    const copy = path.join(work, 'infra');
    cpSync(sourceDir, copy, { recursive: true });
    const types = graphTypesDir();
    if (types) {
      // An archive of the vendored types, and the alias mapped to it (a path, relative to this config).
      const archive = path.join(work, 'microsoftgraph-v1.0-1.0.0.tgz');
      run(cli, ['publish-extension', path.join(types, 'index.json'), '--target', archive]);
      const config = JSON.parse(readFileSync(path.join(copy, 'bicepconfig.json'), 'utf8')) as {
        extensions: Record<string, string>;
      };
      config.extensions.microsoftGraphV1 = `../${path.basename(archive)}`;
      writeFileSync(path.join(copy, 'bicepconfig.json'), JSON.stringify(config, null, 2));
    }
    const build = run(cli, ['build', path.join(copy, 'main.bicep'), '--stdout']);
    const linted = readdirSync(copy, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.bicep'))
      .sort();
    const lint = run(cli, ['lint', '--pattern', path.join(copy, '**', '*.bicep')], true);
    const compilation: Compilation = {
      template: JSON.parse(build.stdout) as object,
      diagnostics: uniqueDiagnostics(parseDiagnostics(`${build.stderr}\n${lint.stderr}`, copy)),
      linted,
      version: bicepVersion(cli),
      graphExtension: types ? 'offline' : 'registry',
    };
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, JSON.stringify(compilation));
    renameSync(partial, cacheFile);
    return compilation;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function uniqueDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.file}:${d.line}:${d.code}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

function run(cli: string, args: string[], allowFailure = false) {
  const result = spawnSync(cli, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0 && !allowFailure)
    throw new Error(
      `bicep ${args[0]} failed (${result.status}):\n${result.stderr}${result.stdout}`,
    );
  return result;
}

let compiled: { compilation?: Compilation; skipped?: string } | undefined;

/**
 * The compiled infra/ for the ARM checks, or why there is none: no CLI, or the Graph extension could
 * not be restored (no vendored types, registry out of reach). With REQUIRE_BICEP=1 both throw.
 */
export function compiledInfra(): { compilation?: Compilation; skipped?: string } {
  if (compiled) return compiled;
  const cli = findBicep();
  if (!cli) {
    if (BICEP_REQUIRED) throw new Error(`REQUIRE_BICEP=1: ${HOW_TO_GET_BICEP}`);
    return (compiled = { skipped: HOW_TO_GET_BICEP });
  }
  try {
    compiled = { compilation: compileInfra(cli) };
  } catch (error) {
    const message = (error as Error).message;
    // BCP192: an artifact (the Graph extension) could not be restored from its registry.
    if (BICEP_REQUIRED || !/BCP192|restore/i.test(message)) throw error;
    compiled = {
      skipped: `The Graph extension could not be restored, compile skipped: ${message}`,
    };
  }
  return compiled;
}
