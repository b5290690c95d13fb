import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The emulator's fixed "app registration": tenant and client ids that never change, so
 * local.settings.json can name them once, and a client secret made per machine.
 */

/** Fixed, obviously fake tenant id of the local emulator. */
export const DEV_TENANT_ID = '00000000-0000-4000-8000-00000000da7a';

/** Fixed client id of the local app registration. */
export const DEV_CLIENT_ID = '11111111-1111-4111-8111-0000000c11e7';

/** Fixed client id of the local daemon (a service calling the app's API on its own). */
export const DEV_DAEMON_CLIENT_ID = '22222222-2222-4222-8222-0000000da3e0';
/** The application permission the local daemon is granted on the app's API. */
export const DEV_DAEMON_APP_ROLES = ['Admin.Read.All'];

const SECRET_FILE = 'client-secret.txt';
export const DAEMON_SECRET_FILE = 'daemon-secret.txt';

/**
 * Returns the local client secret, generating it on first use (`dir/client-secret.txt`, which
 * the dev scripts also read to configure the app). Never printed.
 */
export function loadOrCreateDevClientSecret(dir: string, fileName = SECRET_FILE): string {
  const file = path.join(dir, fileName);
  const existing = readSecret(file);
  if (existing) return existing;

  fs.mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${secret}\n`, { mode: 0o600 });
  try {
    // link() creates the name atomically or fails: when two processes race, the first wins
    // and both use its secret, and nobody ever reads a half-written file.
    fs.linkSync(temporary, file);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = readSecret(file);
    if (!winner) {
      throw new Error(`${file} is empty; delete it to get a new secret.`, { cause: error });
    }
    return winner;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

function readSecret(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
