import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Child processes for the dev scripts and the tests: spawn, wait for a ready line, stop. */

/**
 * The package's own folder (this repository, or node_modules/entra-functions-signin in an app):
 * the first folder up from here with a package.json, from dev/*.ts and from the built lib/dev/.
 */
export const PROJECT_ROOT = packageRoot(__dirname);

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}

/** The built dev host and emulator (npm run build puts them in lib/dev/). */
export const BUILT_DEV_DIR = path.join(PROJECT_ROOT, 'lib', 'dev');

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The match of the ready pattern on the line that announced readiness. */
  readonly ready: RegExpMatchArray;
  /** Output seen so far (stdout and stderr interleaved), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A line matching this means the process is ready. */
  readyPattern: RegExp;
  timeoutMs?: number;
  /** Echo the child's output with a `[name]` prefix (the dev scripts do, tests do not). */
  echo?: boolean;
  /** The signal that asks it to stop cleanly (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
}

/** Spawns a process and resolves once it prints a line matching readyPattern. */
export function spawnReady(options: SpawnOptions): Promise<ManagedProcess> {
  const {
    name,
    command,
    args,
    readyPattern,
    timeoutMs = 30_000,
    echo = false,
    stopSignal = 'SIGTERM',
  } = options;
  const child = spawn(command, args, {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group, so stop() also ends grandchildren (npm, tsx and friends).
    detached: process.platform !== 'win32',
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const managed = (ready: RegExpMatchArray): ManagedProcess => ({
    name,
    child,
    ready,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, stopSignal);
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  });

  return new Promise((resolve, reject) => {
    let pending = '';
    let settled = false;
    const timer = setTimeout(() => {
      fail(new Error(`${name} was not ready within ${timeoutMs} ms.\n${output}`));
    }, timeoutMs);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signalGroup(child, 'SIGKILL');
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (output.length > 200_000) output = output.slice(-100_000);
      if (echo) {
        for (const line of text.split('\n').filter(Boolean)) console.log(`[${name}] ${line}`);
      }
      if (settled) return;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = line.match(readyPattern);
        if (match) {
          settled = true;
          clearTimeout(timer);
          resolve(managed(match));
          return;
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => fail(error));
    child.once('exit', (code, signal) =>
      fail(new Error(`${name} exited (${signal ?? code}) before it was ready.\n${output}`)),
    );
  });
}

/**
 * Runs a TypeScript entry point of this project in one node process with tsx's loader (not
 * the tsx CLI, whose extra parent process would deliver every signal twice).
 */
export function spawnTsReady(
  options: Omit<SpawnOptions, 'command' | 'args'> & { script: string; args?: string[] },
): Promise<ManagedProcess> {
  return spawnReady({
    ...options,
    command: process.execPath,
    args: ['--import', 'tsx', path.resolve(PROJECT_ROOT, options.script), ...(options.args ?? [])],
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform !== 'win32') process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone.
  }
}

/** A free TCP port on loopback, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Stops every process, newest first, even when one of them fails to stop. */
export async function stopAll(processes: readonly (ManagedProcess | undefined)[]): Promise<void> {
  for (const p of [...processes].reverse()) {
    if (p) await p.stop().catch(() => undefined);
  }
}
