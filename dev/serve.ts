import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import {
  misconfiguredBanner,
  oneLineStartFailure,
  parseDevOptions,
  settingsProblems,
  UsageError,
} from './cli';
import { chooseHost } from './functionsHost';
import { AppEntryError, appEntryFiles } from './host/appEntry';
import { startLocalHost } from './localHost';
import { localSettings } from './settings';
import { LOGIN_FUNCTION_NAME } from '../src/routes';

/**
 * `npm run serve` (and what `npm start` runs per instance): only the functions host, for the app
 * folder given with --app (default: the current folder), with the current settings (environment
 * over local.settings.json). Several can run on several ports against one storage account.
 */

const USAGE = `Usage: npm run serve [-- options]

Serves a built Azure Functions app (the folder with its package.json "main" and host.json;
npm run serve here serves dist/) with the current settings (environment over
local.settings.json): Azure Functions Core Tools when "func" is installed, else the local host
(AUTH_DEV_HOST=local or func forces a choice). Starts no Azurite and no emulator: npm start does
(npm start -- --instances <n> serves several against them).`;

async function main(): Promise<void> {
  const env = localSettings();
  const options = parseDevOptions(
    process.argv.slice(2),
    env,
    USAGE,
    {
      'log-requests':
        '--log-requests  one line per request (the local host; also AUTH_DEV_LOG_REQUESTS=1)',
      'no-settings-banner':
        '--no-settings-banner  no MISCONFIGURED lines of its own (npm start prints them once for all instances)',
    },
    { app: '--app <dir>     the app folder to serve (default: the current folder)' },
  );
  if (options.help) return;
  const { port } = options;
  const appDir = path.resolve(options.values.app ?? '.');
  try {
    appEntryFiles(appDir);
  } catch (error) {
    if (error instanceof AppEntryError) throw new UsageError(error.message);
    throw error;
  }
  // Node reads NODE_EXTRA_CA_CERTS only at start-up: when it comes from local.settings.json,
  // start again with it in the environment.
  if (env.NODE_EXTRA_CA_CERTS && process.env.NODE_EXTRA_CA_CERTS !== env.NODE_EXTRA_CA_CERTS) {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      env,
      stdio: 'inherit',
    });
    forwardSignals(() => child.kill('SIGTERM'));
    child.on('exit', (code) => process.exit(code ?? 1));
    return;
  }
  // After the re-spawn: the choice probes `func --version`, once, in the process that serves.
  const hostKind = chooseHost(env);
  const problems = options.flags['no-settings-banner'] ? [] : settingsProblems(env);

  if (hostKind === 'func') {
    const child = spawn('func', ['start', '--port', String(port)], {
      cwd: appDir,
      env: { FUNCTIONS_WORKER_RUNTIME: 'node', ...env },
      stdio: 'inherit',
    });
    forwardSignals(() => child.kill('SIGTERM'));
    child.on('exit', (code) => process.exit(code ?? 1));
    // Ready only once Core Tools accepts connections, not when it was merely started.
    await waitForPort(port, () => child.exitCode !== null);
    console.log(
      `Functions host (func) ready on http://localhost:${port} (Azure Functions Core Tools)`,
    );
    if (problems.length > 0) console.log(misconfiguredBanner(problems));
    return;
  }

  Object.assign(process.env, env);
  const host = await startLocalHost({
    appDir,
    port,
    logRequests: options.flags['log-requests'] || env.AUTH_DEV_LOG_REQUESTS === '1',
  });
  console.log(
    `Functions host (local) ready on http://localhost:${host.port} (the local host, serving ${host.functionNames.length} functions of ${path.relative(process.cwd(), appDir) || '.'}: Azure Functions Core Tools is not installed)`,
  );
  // Only an app that signs users in needs the sign-in settings (the local host sees its functions).
  if (problems.length > 0 && host.functionNames.includes(LOGIN_FUNCTION_NAME)) {
    console.log(misconfiguredBanner(problems));
  }
  forwardSignals(async () => {
    await host.close();
    process.exit(0);
  });
}

async function waitForPort(port: number, gaveUp: () => boolean): Promise<void> {
  while (!gaveUp()) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function forwardSignals(stop: () => unknown): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
}

main().catch((error: unknown) => {
  console.error(oneLineStartFailure(error) ?? error);
  process.exit(error instanceof UsageError ? 2 : 1);
});
