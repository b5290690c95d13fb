import { readFileSync } from 'node:fs';
import type { TestUser } from './users';

/**
 * Switches for fault-injection tests, read from the environment by `main.ts`:
 * - `EMULATOR_PUBLIC_ORIGIN`: where the app reaches the https endpoints when a proxy stands in
 *   front of the emulator (`https://localhost:<proxy port>`); the issuer and discovery then name
 *   the proxy, so every server-side call (discovery, token, keys) crosses it.
 * - `EMULATOR_USERS_FILE`: a JSON file of test users instead of users.json (e.g. a user with
 *   thousands of groups).
 */

export function publicOriginFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.EMULATOR_PUBLIC_ORIGIN?.trim();
  if (!value) return undefined;
  const url = URL.parse(value);
  if (!url || url.protocol !== 'https:' || url.hostname !== 'localhost' || url.origin !== value) {
    throw new Error(`EMULATOR_PUBLIC_ORIGIN must be https://localhost:<port>, got "${value}".`);
  }
  return value;
}

export function usersFromEnv(env: NodeJS.ProcessEnv): TestUser[] | undefined {
  const file = env.EMULATOR_USERS_FILE?.trim();
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as TestUser[]) : undefined;
}
