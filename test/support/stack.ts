import { readFileSync } from 'node:fs';
import { LOCAL_HOST_READY } from '../../dev/functionsHost';
import path from 'node:path';
import {
  BUILT_DEV_DIR,
  freePort,
  PROJECT_ROOT,
  spawnReady,
  stopAll,
  type ManagedProcess,
} from '../../dev/processes';
import { startTestAzurite } from './azurite';
import { ensureDevCertificate } from '../../dev/emulator/certificate';
import { startEmulatorProcess, TEST_CERT_DIR, type EmulatorProcess } from './emulatorProcess';
import { startFaultProxy, type FaultProxy } from './faultProxy';

/**
 * The whole thing as a user runs it, on free ports: Azurite, the Entra emulator, and N
 * instances of the served app (dist/, by the built local host lib/dev/serve.js) sharing one storage.
 * The app's public origin is `appOrigin`: one instance, or a load balancer in front of many.
 */

export interface StackOptions {
  instances?: number;
  /**
   * Extra app settings (e.g. AUTH_FLOW_TTL_SECONDS), or a function of the started emulator for
   * settings that depend on it (e.g. an AUTH_AUTHORITY at another of its paths).
   */
  settings?: Record<string, string> | ((emulator: EmulatorProcess) => Record<string, string>);
  /** A fixed port for the app's public origin (default: the first instance's free port). */
  appPort?: number;
  /** Keep Azurite's data in this folder (survives an Azurite restart). */
  azuriteLocation?: string;
  /** The emulator's access-token lifetime (default 1 hour). */
  accessTokenSeconds?: number;
  /** Put a fault-injection proxy in front of Azurite and one in front of the emulator. */
  faultProxies?: boolean;
  /** The emulator's test users, as a JSON file (default: dev/emulator/users.json). */
  emulatorUsersFile?: string;
}

/** The proxies the app's outbound calls cross (with `faultProxies`). */
export interface StackFaults {
  /** In front of Azurite's Table service. */
  storage: FaultProxy;
  /** In front of the emulator's https endpoints: discovery, token, keys. */
  identityProvider: FaultProxy;
}

export interface Stack {
  appOrigin: string;
  instancePorts: number[];
  emulator: EmulatorProcess;
  azurite: {
    port: number;
    connectionString: string;
    process: ManagedProcess;
    restart(): Promise<void>;
    stop(): Promise<void>;
  };
  /** The emulator's certificate, for server-side test clients of its https endpoints. */
  ca: Buffer;
  /** With `faultProxies`: the proxies in front of storage and the identity provider. */
  faults?: StackFaults;
  /** The connection string the app uses (through the storage proxy, when there is one). */
  appStorageConnectionString: string;
  hostOutput(): string;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const instances = options.instances ?? 1;
  const instancePorts = await Promise.all(Array.from({ length: instances }, () => freePort()));
  const appPort = options.appPort ?? instancePorts[0]!;
  const appOrigin = `http://localhost:${appPort}`;
  const started: (ManagedProcess | { stop(): Promise<void> } | undefined)[] = [];
  try {
    const { startAzurite } = await import('../../dev/azurite');
    const tablePort = await freePort();
    let azuriteRun = options.azuriteLocation
      ? {
          ...(await startAzurite({ tablePort, location: options.azuriteLocation })),
          port: tablePort,
        }
      : await startTestAzurite(tablePort);
    const azurite: Stack['azurite'] = {
      port: tablePort,
      connectionString: azuriteRun.tableConnectionString,
      get process() {
        return azuriteRun.process;
      },
      stop: () => azuriteRun.process.stop(),
      restart: async () => {
        await azuriteRun.process.stop();
        azuriteRun = options.azuriteLocation
          ? {
              ...(await startAzurite({ tablePort, location: options.azuriteLocation })),
              port: tablePort,
            }
          : await startTestAzurite(tablePort);
      },
    };
    started.push({ stop: () => azurite.stop() });

    let faults: StackFaults | undefined;
    let appStorageConnectionString = azurite.connectionString;
    if (options.faultProxies) {
      const { certPath, keyPath } = await ensureDevCertificate(TEST_CERT_DIR);
      const [cert, key] = [readFileSync(certPath), readFileSync(keyPath)];
      faults = {
        storage: await startFaultProxy({ target: `http://127.0.0.1:${tablePort}` }),
        identityProvider: await startFaultProxy({ tls: { cert, key }, ca: cert }),
      };
      const proxies = faults;
      started.push({ stop: () => proxies.storage.close() });
      started.push({ stop: () => proxies.identityProvider.close() });
      appStorageConnectionString = azurite.connectionString.replace(
        `127.0.0.1:${tablePort}`,
        `127.0.0.1:${faults.storage.port}`,
      );
    }

    const emulator = await startEmulatorProcess({
      redirectUris: [`${appOrigin}/api/auth/callback`],
      postLogoutRedirectUris: [`${appOrigin}/`, `${appOrigin}/api/demo`],
      accessTokenSeconds: options.accessTokenSeconds,
      publicOrigin: faults?.identityProvider.origin,
      usersFile: options.emulatorUsersFile,
    });
    started.push(emulator);
    if (faults) faults.identityProvider.target = `https://localhost:${emulator.port}`;
    const settings =
      typeof options.settings === 'function' ? options.settings(emulator) : options.settings;

    const hosts = await Promise.all(
      instancePorts.map((port) =>
        spawnReady({
          name: `host:${port}`,
          // What npm run serve runs: the built host (plain node) serving the built app.
          command: process.execPath,
          args: [path.join(BUILT_DEV_DIR, 'serve.js'), '--app', path.join(PROJECT_ROOT, 'dist')],
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            AUTH_DEV_HOST: 'local',
            PORT: String(port),
            NODE_EXTRA_CA_CERTS: emulator.certPath,
            AUTH_AUTHORITY: emulator.authority,
            AUTH_CLIENT_ID: emulator.clientId,
            AUTH_CLIENT_SECRET: emulator.clientSecret,
            AUTH_REDIRECT_URI: `${appOrigin}/api/auth/callback`,
            AUTH_STORAGE_CONNECTION_STRING: appStorageConnectionString,
            AUTH_GRAPH_BASE_URL: `https://localhost:${emulator.port}`,
            ...settings,
          },
          readyPattern: LOCAL_HOST_READY,
          timeoutMs: 60_000,
        }),
      ),
    );
    started.push(...hosts);
    return {
      appOrigin,
      instancePorts,
      emulator,
      azurite,
      ca: readFileSync(emulator.certPath),
      faults,
      appStorageConnectionString,
      hostOutput: () => hosts.map((h) => h.output()).join('\n'),
      stop: () => stopAll(started as ManagedProcess[]),
    };
  } catch (error) {
    await stopAll(started as ManagedProcess[]);
    throw error;
  }
}
