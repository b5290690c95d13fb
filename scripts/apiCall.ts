import { readFileSync } from 'node:fs';
import path from 'node:path';
import { daemonAccessToken } from '../dev/apiTokens';
import {
  DAEMON_SECRET_FILE,
  DEV_CLIENT_ID,
  DEV_DAEMON_CLIENT_ID,
  DEV_TENANT_ID,
} from '../dev/emulator/devRegistration';
import { PROJECT_ROOT } from '../dev/processes';

/**
 * `npm run api-call` (with `npm start` running): the local daemon gets an app-only token from
 * the emulator (client credentials, `api://<client id>/.default`) and calls the Admin-only
 * function with it as `Authorization: Bearer`: no browser, no cookie. Then the same call
 * without the token, to show the 401 and its WWW-Authenticate. The token is never printed.
 */
async function main(): Promise<void> {
  const env = process.env;
  const certDir = env.EMULATOR_CERT_DIR || path.join(PROJECT_ROOT, '.local', 'emulator');
  const emulatorPort = env.EMULATOR_PORT || '7443';
  const appOrigin = env.APP_ORIGIN || 'http://localhost:7071';
  const token = await daemonAccessToken({
    authority: `https://localhost:${emulatorPort}/${DEV_TENANT_ID}`,
    ca: readFileSync(path.join(certDir, 'localhost-cert.pem')),
    clientId: DEV_DAEMON_CLIENT_ID,
    clientSecret:
      env.EMULATOR_DAEMON_CLIENT_SECRET ||
      readFileSync(path.join(certDir, DAEMON_SECRET_FILE), 'utf8').trim(),
    apiClientId: DEV_CLIENT_ID,
  });
  console.log(`daemon ${DEV_DAEMON_CLIENT_ID}: got an app-only token for api://${DEV_CLIENT_ID}`);
  for (const [label, headers] of [
    ['with the bearer token', { authorization: `Bearer ${token}` }],
    ['without a token', {}],
  ] as const) {
    const response = await fetch(`${appOrigin}/api/admin`, {
      headers: { accept: 'application/json', ...headers },
    });
    const challenge = response.headers.get('www-authenticate');
    console.log(
      `GET ${appOrigin}/api/admin ${label}: ${response.status} ${await response.text()}${challenge ? `\n  WWW-Authenticate: ${challenge}` : ''}`,
    );
  }
}

main().catch((error: Error) => {
  console.error(`api-call failed: ${error.message} (is \`npm start\` running?)`);
  process.exit(1);
});
