import path from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';
import { startAzurite } from './azurite';
import { ensureDevCertificate } from './emulator/certificate';
import {
  DEV_CLIENT_ID,
  DEV_TENANT_ID,
  loadOrCreateDevClientSecret,
} from './emulator/devRegistration';
import { spawnSync } from 'node:child_process';
import {
  misconfiguredBanner,
  oneLineStartFailure,
  parseCount,
  parseDevOptions,
  settingsProblems,
  UsageError,
} from './cli';
import { chooseHost, LOCAL_HOST_READY } from './functionsHost';
import { startLoadBalancer, type LoadBalancer } from './loadBalancer';
import { BUILT_DEV_DIR, freePort, spawnReady, stopAll, type ManagedProcess } from './processes';
import { localSettings } from './settings';

/**
 * `npm start` here, `npx entra-functions-dev` in an app that uses the package: checks its options,
 * builds (the folder's `npm run build`, when it has one), then starts Azurite, the local Entra
 * emulator when no real tenant is configured, and the functions host for the app folder.
 * Ctrl-C stops them all.
 */

const USAGE = `Usage: npm start [-- options]   (in an app using the package: npx entra-functions-dev [options])

Builds the app (npm run build, when there is one), then starts Azurite (Table service), the local
Entra ID emulator (unless a real tenant is configured) and the functions host for the app folder:
Azure Functions Core Tools when "func" is installed, else the local host (AUTH_DEV_HOST=local or
func forces a choice). Settings: the environment over local.settings.json.`;

const LOCAL_DIR = path.join(process.cwd(), '.local');
const EMULATOR_DIR = path.join(LOCAL_DIR, 'emulator');
const DEFAULT_EMULATOR_PORT = 7443;
/** The emulator's plain-http front door for the browser (no certificate warning). */
const DEFAULT_EMULATOR_BROWSER_PORT = 7444;
const DEFAULT_TABLE_PORT = 10002;
const MAX_INSTANCES = 8;

async function main(): Promise<void> {
  const settings = localSettings();
  const options = parseDevOptions(
    process.argv.slice(2),
    settings,
    USAGE,
    {
      'no-build': '--no-build      start what is built, without building first',
      'any-ports':
        '--any-ports     Azurite and the emulator on free ports, not 10002, 7443 and 7444',
      'log-requests': '--log-requests  the local host logs one line per request',
    },
    {
      instances: `--instances <n> n hosts (1 to ${MAX_INSTANCES}) behind a local load balancer on the port, each request to a random one (default 1)`,
      app: '--app <dir>     the built app folder to serve (default: the current folder)',
      landing: '--landing <p>   where a sign-in without a return URL lands (default /api/auth/me)',
    },
  );
  if (options.help) return;
  const appDir = path.resolve(options.values.app ?? '.');
  const landing = options.values.landing ?? '/api/auth/me';
  const peers = missingPeers();
  if (peers.length > 0) {
    throw new UsageError(
      `The dev host needs ${peers.join(' and ')}: npm install --save-dev ${peers.join(' ')}`,
    );
  }
  const { port } = options;
  const instances = parseCount('instances', options.values.instances ?? '1', 1, MAX_INSTANCES);
  const appOrigin = `http://localhost:${port}`;
  const hostKind = chooseHost(settings);
  // Refuse a taken port now, not after Azurite and the emulator have started.
  if (port !== 0 && !(await isFree(port)))
    throw Object.assign(new Error(), { code: 'EADDRINUSE', port });
  if (!options.flags['no-build']) build();
  // The well-known ports when free (bookmarks keep working), else any; tests ask for any.
  const preferredPort = async (port: number) =>
    !options.flags['any-ports'] && (await isFree(port)) ? port : freePort();
  const running: ManagedProcess[] = [];
  let balancer: LoadBalancer | undefined;
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping...');
    await balancer?.close();
    await stopAll(running);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const hostEnv: NodeJS.ProcessEnv = { ...settings, PORT: String(port), AUTH_DEV_HOST: hostKind };
    // A sign-in without a return URL lands somewhere served: nothing is served at / locally.
    hostEnv.AUTH_DEFAULT_RETURN_TO ??= landing;
    // Behind the balancer every instance answers for its public origin, not its own port.
    if (instances > 1) hostEnv.AUTH_REDIRECT_URI ??= `${appOrigin}/api/auth/callback`;

    const storage = settings.AUTH_STORAGE_CONNECTION_STRING;
    if (
      settings.AUTH_STORAGE_TABLE_ENDPOINT ||
      (storage && !/UseDevelopmentStorage=true/i.test(storage))
    ) {
      console.log('Storage: using the configured account (Azurite not started).');
    } else {
      const tablePort = await preferredPort(DEFAULT_TABLE_PORT);
      // Core Tools needs blob and queue too (timer trigger locks); the local host only tables.
      const allServices =
        hostKind === 'func'
          ? { blobPort: await freePort(), queuePort: await freePort() }
          : undefined;
      const azurite = await startAzurite({
        tablePort,
        allServices,
        location: path.join(LOCAL_DIR, 'azurite'),
      });
      running.push(azurite.process);
      hostEnv.AUTH_STORAGE_CONNECTION_STRING = azurite.tableConnectionString;
      if (allServices) hostEnv.AzureWebJobsStorage = azurite.connectionString;
      console.log(
        `Storage: Azurite Table service on http://127.0.0.1:${tablePort} (data in .local/azurite)`,
      );
    }

    if (settings.AUTH_TENANT_ID || settings.AUTH_AUTHORITY) {
      console.log(
        `Identity: the configured tenant (${settings.AUTH_AUTHORITY ?? settings.AUTH_TENANT_ID}).`,
      );
    } else {
      // The certificate must exist before the host starts: Node reads NODE_EXTRA_CA_CERTS once.
      const { certPath } = await ensureDevCertificate(EMULATOR_DIR);
      const emulatorPort = await preferredPort(DEFAULT_EMULATOR_PORT);
      let browserPort = await preferredPort(DEFAULT_EMULATOR_BROWSER_PORT);
      while (browserPort === emulatorPort) browserPort = await freePort();
      const clientSecret = loadOrCreateDevClientSecret(EMULATOR_DIR);
      const emulator = await spawnReady({
        name: 'emulator',
        command: process.execPath,
        args: [path.join(BUILT_DEV_DIR, 'emulator.js')],
        cwd: process.cwd(),
        env: {
          ...process.env,
          EMULATOR_PORT: String(emulatorPort),
          EMULATOR_BROWSER_PORT: String(browserPort),
          EMULATOR_CERT_DIR: EMULATOR_DIR,
          EMULATOR_TENANT_ID: DEV_TENANT_ID,
          EMULATOR_CLIENT_ID: DEV_CLIENT_ID,
          EMULATOR_CLIENT_SECRET: clientSecret,
          EMULATOR_REDIRECT_URIS: `${appOrigin}/api/auth/callback`,
          EMULATOR_POST_LOGOUT_REDIRECT_URIS: `${appOrigin}/,${appOrigin}${landing}`,
        },
        readyPattern: /^EMULATOR_READY (.*)$/,
        echo: true,
      });
      running.push(emulator);
      const { authority, browserOrigin } = JSON.parse(emulator.ready[1] ?? '{}') as {
        authority: string;
        browserOrigin: string;
      };
      Object.assign(hostEnv, {
        AUTH_AUTHORITY: authority,
        AUTH_CLIENT_ID: DEV_CLIENT_ID,
        AUTH_CLIENT_SECRET: clientSecret,
        AUTH_POST_LOGOUT_REDIRECT_URI:
          settings.AUTH_POST_LOGOUT_REDIRECT_URI ?? `${appOrigin}${landing}`,
        // The emulator plays Microsoft Graph too (/v1.0/me), for the demo's profile call.
        AUTH_GRAPH_BASE_URL: settings.AUTH_GRAPH_BASE_URL ?? new URL(authority).origin,
        NODE_EXTRA_CA_CERTS: certPath,
      });
      console.log(
        `Identity: local Entra ID emulator at ${authority}/v2.0 (certificate ${path.relative(process.cwd(), certPath)})`,
      );
      console.log(
        `Identity: its login pages open in the browser at ${browserOrigin} (plain http on localhost: no certificate warning)`,
      );
    }

    const hostPorts = instances > 1 ? await distinctFreePorts(instances, port) : [port];
    for (const [i, hostPort] of hostPorts.entries()) {
      const host = await spawnReady({
        name: `${hostKind === 'func' ? 'func' : 'app'}${instances > 1 ? i + 1 : ''}`,
        // Plain node: the built host (lib/dev/serve.js), serving the built app.
        command: process.execPath,
        args: [
          path.join(BUILT_DEV_DIR, 'serve.js'),
          '--app',
          appDir,
          ...(options.flags['log-requests'] ? ['--log-requests'] : []),
          // The summary below says what is misconfigured, once for every instance.
          '--no-settings-banner',
        ],
        cwd: process.cwd(),
        env: { ...hostEnv, PORT: String(hostPort) },
        readyPattern: LOCAL_HOST_READY,
        echo: true,
        timeoutMs: 120_000,
      });
      running.push(host);
      host.child.once('exit', (code) => void shutdown(code ?? 1));
    }
    if (instances > 1) {
      balancer = await startLoadBalancer({ port });
      balancer.setTargets(hostPorts);
    }
    const problems = settingsProblems(hostEnv);
    console.log(`
  Functions host: ${hostKind === 'func' ? 'Azure Functions Core Tools (func start)' : 'the local host (Core Tools not installed)'}${instances > 1 ? `\n  Instances:      ${hostPorts.map((p, i) => `${i + 1}: http://localhost:${p}`).join(', ')}\n                  behind a load balancer on ${appOrigin} (each request to a random instance, no affinity)` : ''}
  Open:           ${appOrigin}${landing}
  Sign in:        ${appOrigin}/api/auth/login?returnTo=${encodeURIComponent(landing)}
${problems.length > 0 ? `${misconfiguredBanner(problems)}\n` : ''}  Press Ctrl-C to stop everything.
`);
  } catch (error) {
    console.error(oneLineStartFailure(error) ?? (error instanceof Error ? error.message : error));
    await shutdown(1);
  }
}

function build(): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', '--silent', '--if-present', 'build'], {
    cwd: process.cwd(),
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) throw new UsageError('The build failed (see above).');
}

/** Ports for the instances, none of them the balancer's. */
async function distinctFreePorts(count: number, publicPort: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const candidate = await freePort();
    if (candidate !== publicPort) ports.add(candidate);
  }
  return [...ports];
}

/** The optional peer dependencies the dev tools start: azurite and oidc-provider (the emulator's). */
function missingPeers(): string[] {
  const resolveFromHere = createRequire(path.join(BUILT_DEV_DIR, 'start.js'));
  return ['azurite', 'oidc-provider'].filter((name) => {
    try {
      resolveFromHere.resolve(`${name}/package.json`);
      return false;
    } catch {
      return true;
    }
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

main().catch((error: unknown) => {
  console.error(oneLineStartFailure(error) ?? error);
  process.exit(error instanceof UsageError ? 2 : 1);
});
