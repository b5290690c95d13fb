import path from 'node:path';
import { PROJECT_ROOT } from '../processes';
import { DEV_CLIENT_ID, DEV_TENANT_ID, loadOrCreateDevClientSecret } from './devRegistration';
import { assertDevelopmentOnly, startEmulator } from './emulator';

/**
 * `tsx dev/emulator/main.ts`: runs the local Entra ID emulator until SIGINT/SIGTERM.
 * Prints one `EMULATOR_READY {"port":...,"authority":"...","issuer":"..."}` line when listening.
 */

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
  const port = Number(env.EMULATOR_PORT ?? '7443');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`EMULATOR_PORT must be a port number (0 for any free port), got "${port}".`);
  }
  const emulator = await startEmulator({
    port,
    tenantId: env.EMULATOR_TENANT_ID || DEV_TENANT_ID,
    certDir,
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
    log: env.EMULATOR_VERBOSE === '1' ? (line) => console.log(line) : undefined,
  });

  const { authority, issuer } = emulator;
  console.log(`EMULATOR_READY ${JSON.stringify({ port: emulator.port, authority, issuer })}`);

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
