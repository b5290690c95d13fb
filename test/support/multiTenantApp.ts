import { DEV_TENANT_ID } from '../../dev/emulator/devRegistration';
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
import { startEmulatorProcess, type EmulatorProcess } from './emulatorProcess';

/**
 * The app at the emulator's multi-tenant authority: Azurite, the emulator and one served host
 * with `AUTH_AUTHORITY=https://localhost:<port>/organizations` and `AUTH_ALLOWED_TENANTS` = the
 * emulator's own tenant (Contoso). Its second tenant, Fabrikam, is not allowed.
 */

export const FABRIKAM_TENANT_ID = '00000000-0000-4000-8000-0000000fab1c';

export interface MultiTenantApp {
  appOrigin: string;
  emulator: EmulatorProcess;
  stop(): Promise<void>;
}

export async function startMultiTenantApp(): Promise<MultiTenantApp> {
  const started: (ManagedProcess | EmulatorProcess)[] = [];
  try {
    const azurite = await startTestAzurite(await freePort());
    started.push(azurite.process);
    const port = await freePort();
    const appOrigin = `http://localhost:${port}`;
    const emulator = await startEmulatorProcess({
      redirectUris: [`${appOrigin}/api/auth/callback`],
      postLogoutRedirectUris: [`${appOrigin}/`],
    });
    started.push(emulator);
    const host = await spawnReady({
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
        AUTH_AUTHORITY: `${new URL(emulator.authority).origin}/organizations`,
        AUTH_ALLOWED_TENANTS: DEV_TENANT_ID,
        AUTH_CLIENT_ID: emulator.clientId,
        AUTH_CLIENT_SECRET: emulator.clientSecret,
        AUTH_REDIRECT_URI: `${appOrigin}/api/auth/callback`,
        AUTH_STORAGE_CONNECTION_STRING: azurite.tableConnectionString,
        AUTH_GRAPH_BASE_URL: `https://localhost:${emulator.port}`,
      },
      readyPattern: LOCAL_HOST_READY,
      timeoutMs: 60_000,
    });
    started.push(host);
    return { appOrigin, emulator, stop: () => stopAll(started as ManagedProcess[]) };
  } catch (error) {
    await stopAll(started as ManagedProcess[]);
    throw error;
  }
}
