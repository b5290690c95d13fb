import { readFileSync } from 'node:fs';
import { LOCAL_HOST_READY } from '../../dev/functionsHost';
import { freePort, spawnTsReady, stopAll, type ManagedProcess } from '../../dev/processes';
import { startTestAzurite } from './azurite';
import { startEmulatorProcess, type EmulatorProcess } from './emulatorProcess';

/**
 * The whole thing as a user runs it, on free ports: Azurite, the Entra emulator, and N
 * instances of the served functions (`dev/serve.ts`, the local host) sharing one storage.
 * The app's public origin is `appOrigin`: one instance, or a load balancer in front of many.
 */

export interface StackOptions {
  instances?: number;
  /** Extra app settings (e.g. AUTH_FLOW_TTL_SECONDS). */
  settings?: Record<string, string>;
  /** A fixed port for the app's public origin (default: the first instance's free port). */
  appPort?: number;
  /** Keep Azurite's data in this folder (survives an Azurite restart). */
  azuriteLocation?: string;
  /** The emulator's access-token lifetime (default 1 hour). */
  accessTokenSeconds?: number;
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

    const emulator = await startEmulatorProcess({
      redirectUris: [`${appOrigin}/api/auth/callback`],
      postLogoutRedirectUris: [`${appOrigin}/`, `${appOrigin}/api/demo`],
      accessTokenSeconds: options.accessTokenSeconds,
    });
    started.push(emulator);

    const hosts = await Promise.all(
      instancePorts.map((port) =>
        spawnTsReady({
          name: `host:${port}`,
          script: 'dev/serve.ts',
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
            AUTH_STORAGE_CONNECTION_STRING: azurite.connectionString,
            AUTH_GRAPH_BASE_URL: `https://localhost:${emulator.port}`,
            ...options.settings,
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
      hostOutput: () => hosts.map((h) => h.output()).join('\n'),
      stop: () => stopAll(started as ManagedProcess[]),
    };
  } catch (error) {
    await stopAll(started as ManagedProcess[]);
    throw error;
  }
}
