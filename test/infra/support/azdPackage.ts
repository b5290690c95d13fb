/**
 * What azd does with a Functions service of language ts (Azure/azure-dev, cli/azd/pkg/project):
 * - resolveFunctionAppRemoteBuild reads the ignore file at the service path (the project root) and
 *   refuses `remoteBuild: false` when it excludes node_modules;
 * - createDeployableZip zips the package folder (`dist:` in azure.yaml) and applies the ignore file
 *   found in THAT folder, gitignore-style; it always leaves out `.azure/`, the ignore file itself and
 *   (for Functions) `local.settings.json`.
 * Reproduced here so a test can build the zip azd would upload, without azd.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const IGNORE_FILE = '.funcignore';

interface Rule {
  negate: boolean;
  directoryOnly: boolean;
  pattern: RegExp;
}

/** The gitignore subset azd's parser (denormal/go-gitignore) applies: *, ?, **, !, leading and trailing /. */
export function parseIgnoreFile(text: string): Rule[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      let body = negate ? line.slice(1) : line;
      const directoryOnly = body.endsWith('/');
      if (directoryOnly) body = body.slice(0, -1);
      const anchored = body.includes('/');
      body = body.replace(/^\//, '');
      const glob = body
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*');
      return {
        negate,
        directoryOnly,
        pattern: new RegExp(anchored ? `^${glob}$` : `(^|/)${glob}$`),
      };
    });
}

/** Whether a path (relative, with /) is ignored: the last matching rule decides. */
export function ignores(rules: Rule[], relativePath: string, isDirectory: boolean): boolean {
  let ignored = false;
  for (const rule of rules) {
    if (rule.directoryOnly && !isDirectory) continue;
    if (rule.pattern.test(relativePath)) ignored = !rule.negate;
  }
  return ignored;
}

/** resolveFunctionAppRemoteBuild for `remoteBuild: false`: the error azd would raise, if any. */
export function remoteBuildProblem(projectDir: string): string | undefined {
  const file = path.join(projectDir, IGNORE_FILE);
  if (!existsSync(file)) return undefined;
  const rules = parseIgnoreFile(readFileSync(file, 'utf8'));
  return ignores(rules, 'node_modules', true)
    ? `'remoteBuild: false' cannot be used when '${IGNORE_FILE}' excludes node_modules`
    : undefined;
}

/** The files createDeployableZip would put in the zip of `packageDir`, relative, sorted. */
export function packageFiles(packageDir: string): string[] {
  const ignoreFile = path.join(packageDir, IGNORE_FILE);
  const rules = existsSync(ignoreFile) ? parseIgnoreFile(readFileSync(ignoreFile, 'utf8')) : [];
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const relative = path.relative(packageDir, full).split(path.sep).join('/');
      const isDirectory = statSync(full).isDirectory();
      if (isDirectory && name === '.azure') continue;
      if (!isDirectory && (name === IGNORE_FILE || name === 'local.settings.json')) continue;
      if (ignores(rules, relative, isDirectory)) continue;
      if (isDirectory) walk(full);
      else files.push(relative);
    }
  };
  walk(packageDir);
  return files.sort();
}
