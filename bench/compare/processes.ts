import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../../dev/processes';

/** The peer's install, the plain-node build of the serve script, and process CPU time. */

export const PEER_DIR = path.join(PROJECT_ROOT, 'bench', 'peer');
export const BENCH_DIR = path.join(PROJECT_ROOT, '.local', 'bench');

/** Installs the peer from its own lock file on first use (bench/peer/node_modules, git-ignored). */
export function ensurePeerInstalled(progress: (line: string) => void): void {
  if (existsSync(path.join(PEER_DIR, 'node_modules', '@auth', 'express', 'package.json'))) return;
  progress('installing the peer (bench/peer: npm ci, first use only)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: PEER_DIR,
    stdio: 'inherit',
  });
}

/**
 * dev/serve.ts built to one CommonJS file that plain `node` runs (packages stay in
 * node_modules, as under tsx), for the cold start "with the bundle loaded by plain node".
 */
export async function buildPlainServe(): Promise<string> {
  const outfile = path.join(BENCH_DIR, 'serve.cjs');
  await build({
    entryPoints: [path.join(PROJECT_ROOT, 'dev', 'serve.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    // dev/ code finds the project root from its own folder.
    define: { __dirname: JSON.stringify(path.join(PROJECT_ROOT, 'dev')) },
    logLevel: 'warning',
  });
  return outfile;
}

/** User + system CPU time of a process, in milliseconds, from /proc/<pid>/stat (Linux). */
export function cpuMillis(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return (ticks * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
