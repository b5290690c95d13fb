import path from 'node:path';
import { PROJECT_ROOT } from '../processes';
import {
  DAEMON_SECRET_FILE,
  DEV_CLIENT_ID,
  DEV_DAEMON_APP_ROLES,
  DEV_DAEMON_CLIENT_ID,
  DEV_TENANT_ID,
  loadOrCreateDevClientSecret,
} from './devRegistration';
import { assertDevelopmentOnly, startEmulator } from './emulator';
import { publicOriginFromEnv, usersFromEnv } from './testHooks';

/**
 * `tsx dev/emulator/main.ts`: runs the local Entra ID emulator until SIGINT/SIGTERM.
 * Prints one `EMULATOR_READY {"port":...,"authority":"...","issuer":"...","browserOrigin":"..."}`
 * line when listening.
 */

/** A port number from the environment (0: any free port). */
function portFrom(name: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) {
    throw new Error(`${name} must be a port number (0 for any free port), got "${value}".`);
  }
  return port;
}

function secondsFrom(name: string, value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || seconds < 1) {
    throw new Error(`${name} must be a whole number of seconds (1 or more), got "${value}".`);
  }
  return seconds;
}

function list(value: string | undefined, fallback: string): string[] {
  return (value ?? fallback)
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

async function main(): Promise<void> {
  // Before anything touches the disk (the client secret file, the certificate).
  assertDevelopmentOnly();
  const env = process.env;
  const certDir = env.EMULATOR_CERT_DIR || path.join(PROJECT_ROOT, '.local', 'emulator');
  const port = portFrom('EMULATOR_PORT', env.EMULATOR_PORT || '7443');
  // The browser's front door: the next port by default (7444), any free one with EMULATOR_PORT=0.
  const browserPort = portFrom(
    'EMULATOR_BROWSER_PORT',
    env.EMULATOR_BROWSER_PORT || String(port === 0 || port === 65535 ? 0 : port + 1),
  );
  const emulator = await startEmulator({
    port,
    browserPort,
    tenantId: env.EMULATOR_TENANT_ID || DEV_TENANT_ID,
    certDir,
    publicOrigin: publicOriginFromEnv(env),
    users: usersFromEnv(env),
    clients: [
      {
        clientId: env.EMULATOR_CLIENT_ID || DEV_CLIENT_ID,
        clientSecret: env.EMULATOR_CLIENT_SECRET || loadOrCreateDevClientSecret(certDir),
        redirectUris: list(env.EMULATOR_REDIRECT_URIS, 'http://localhost:7071/api/auth/callback'),
        postLogoutRedirectUris: list(
          env.EMULATOR_POST_LOGOUT_REDIRECT_URIS,
          'http://localhost:7071/',
        ),
      },
    ],
    daemons: [
      {
        clientId: env.EMULATOR_DAEMON_CLIENT_ID || DEV_DAEMON_CLIENT_ID,
        clientSecret:
          env.EMULATOR_DAEMON_CLIENT_SECRET ||
          loadOrCreateDevClientSecret(certDir, DAEMON_SECRET_FILE),
        appRoles: DEV_DAEMON_APP_ROLES,
      },
    ],
    log: env.EMULATOR_VERBOSE === '1' ? (line) => console.log(line) : undefined,
    accessTokenSeconds: env.EMULATOR_ACCESS_TOKEN_SECONDS
      ? secondsFrom('EMULATOR_ACCESS_TOKEN_SECONDS', env.EMULATOR_ACCESS_TOKEN_SECONDS)
      : undefined,
  });

  const { authority, issuer, browserOrigin } = emulator;
  console.log(
    `EMULATOR_READY ${JSON.stringify({ port: emulator.port, authority, issuer, browserOrigin })}`,
  );

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`Entra ID emulator did not close cleanly: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  console.error(`Entra ID emulator failed to start: ${error.message}`);
  process.exit(1);
});
