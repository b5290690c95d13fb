import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ensureDevCertificate } from '../../dev/emulator/certificate';
import {
  DEV_CLIENT_ID,
  DEV_DAEMON_CLIENT_ID,
  DEV_TENANT_ID,
} from '../../dev/emulator/devRegistration';
import { PROJECT_ROOT, spawnTsReady } from '../../dev/processes';

/** The local Entra ID emulator as a child process on a free port, for integration tests. */

export interface EmulatorProcessOptions {
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  clientId?: string;
  /** Defaults to a fresh random secret per start. */
  clientSecret?: string;
  tenantId?: string;
  /** Defaults to `.local/emulator-test`; the certificate there is reused while valid. */
  certDir?: string;
  /** Lifetime of access tokens for APIs (default 1 hour). */
  accessTokenSeconds?: number;
  /** A proxy in front of the https endpoints (`https://localhost:<port>`), see testHooks.ts. */
  publicOrigin?: string;
  /** A JSON file of test users instead of users.json. */
  usersFile?: string;
}

export interface EmulatorProcess {
  port: number;
  /** `https://localhost:<port>/<tenant>`: AUTH_AUTHORITY for the app, authority for MSAL. */
  authority: string;
  issuer: string;
  /** `http://localhost:<port>`: the browser's front door (authorize, login pages, logout). */
  browserOrigin: string;
  tenantId: string;
  /** The self-signed certificate: NODE_EXTRA_CA_CERTS for processes that call the emulator. */
  certPath: string;
  clientId: string;
  clientSecret: string;
  /** The daemon granted `Admin.Read.All` on the app's API (client credentials). */
  daemon: { clientId: string; clientSecret: string };
  /** Output so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export const TEST_CERT_DIR = path.join(PROJECT_ROOT, '.local', 'emulator-test');

interface ReadyLine {
  port: number;
  authority: string;
  issuer: string;
  browserOrigin: string;
}

export async function startEmulatorProcess(
  options: EmulatorProcessOptions,
): Promise<EmulatorProcess> {
  const certDir = options.certDir ?? TEST_CERT_DIR;
  // Before anything is spawned: NODE_EXTRA_CA_CERTS is read only when a process starts.
  const { certPath } = await ensureDevCertificate(certDir);
  const clientId = options.clientId ?? DEV_CLIENT_ID;
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('base64url');
  const daemonSecret = randomBytes(32).toString('base64url');
  const tenantId = options.tenantId ?? DEV_TENANT_ID;

  const emulator = await spawnTsReady({
    name: 'emulator',
    script: 'dev/emulator/main.ts',
    env: {
      ...process.env,
      EMULATOR_PORT: '0',
      EMULATOR_BROWSER_PORT: '0',
      EMULATOR_TENANT_ID: tenantId,
      EMULATOR_CLIENT_ID: clientId,
      EMULATOR_CLIENT_SECRET: clientSecret,
      EMULATOR_DAEMON_CLIENT_SECRET: daemonSecret,
      EMULATOR_REDIRECT_URIS: options.redirectUris.join(','),
      EMULATOR_POST_LOGOUT_REDIRECT_URIS: options.postLogoutRedirectUris.join(','),
      EMULATOR_CERT_DIR: certDir,
      ...(options.accessTokenSeconds
        ? { EMULATOR_ACCESS_TOKEN_SECONDS: String(options.accessTokenSeconds) }
        : {}),
      ...(options.publicOrigin ? { EMULATOR_PUBLIC_ORIGIN: options.publicOrigin } : {}),
      ...(options.usersFile ? { EMULATOR_USERS_FILE: options.usersFile } : {}),
    },
    readyPattern: /^EMULATOR_READY (.*)$/,
  });
  const ready = JSON.parse(emulator.ready[1] ?? '') as ReadyLine;
  return {
    ...ready,
    tenantId,
    certPath,
    clientId,
    clientSecret,
    daemon: { clientId: DEV_DAEMON_CLIENT_ID, clientSecret: daemonSecret },
    output: () => emulator.output(),
    stop: () => emulator.stop(),
  };
}
