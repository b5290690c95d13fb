import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The app's entry files, found the way the Node.js worker finds them: package.json `main`, which
 * may be a glob such as the quickstart's `dist/src/{index.js,functions/*.js}`, relative to the app
 * folder; every match is loaded, in order. Globs: `{a,b}`, `*`, `?` and `**`.
 */

export class AppEntryError extends Error {}

export function appEntryFiles(appDir: string): string[] {
  const packageJson = path.join(appDir, 'package.json');
  if (!existsSync(packageJson)) throw new AppEntryError(`No package.json in ${appDir}.`);
  const { main } = JSON.parse(readFileSync(packageJson, 'utf8')) as { main?: string };
  const pattern = main ?? 'index.js';
  const files = expandBraces(pattern)
    .flatMap((p) => matchGlob(appDir, p))
    .filter((file, i, all) => all.indexOf(file) === i);
  if (files.length === 0) {
    throw new AppEntryError(
      `package.json "main" (${pattern}) matches no file in ${appDir}: build the app first.`,
    );
  }
  return files;
}

/** Loads the entry files, CommonJS with require, ES modules with import, as the worker does. */
export async function loadAppEntry(appDir: string): Promise<string[]> {
  const files = appEntryFiles(appDir);
  const isModulePackage =
    (JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')) as { type?: string })
      .type === 'module';
  for (const file of files) {
    if (file.endsWith('.mjs') || (isModulePackage && !file.endsWith('.cjs'))) {
      await import(pathToFileURL(file).href);
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(file);
    }
  }
  return files;
}

export function expandBraces(pattern: string): string[] {
  const match = /\{([^{}]*)\}/.exec(pattern);
  if (!match) return [pattern];
  const before = pattern.slice(0, match.index);
  const after = pattern.slice(match.index + match[0].length);
  return (match[1] ?? '').split(',').flatMap((option) => expandBraces(before + option + after));
}

function segmentRegex(segment: string): RegExp {
  const source = segment
    .split('')
    .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/** Files under `dir` matching a brace-free glob, sorted within each folder. */
function matchGlob(dir: string, pattern: string): string[] {
  const segments = pattern.replace(/^\.\//, '').split('/').filter(Boolean);
  const walk = (current: string, rest: string[]): string[] => {
    const [head, ...tail] = rest;
    if (head === undefined)
      return existsSync(current) && statSync(current).isFile() ? [current] : [];
    if (head === '**') {
      const deeper = subfolders(current).flatMap((sub) => walk(sub, rest));
      return [...walk(current, tail), ...deeper];
    }
    if (!/[*?]/.test(head)) return walk(path.join(current, head), tail);
    const regex = segmentRegex(head);
    return entries(current)
      .filter((name) => regex.test(name))
      .flatMap((name) => walk(path.join(current, name), tail));
  };
  return walk(path.resolve(dir), segments);
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function subfolders(dir: string): string[] {
  return entries(dir)
    .filter((name) => name !== 'node_modules')
    .map((name) => path.join(dir, name))
    .filter((full) => statSync(full).isDirectory());
}
