import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Core Tools reads local.settings.json from the folder it starts in; so do the dev scripts. */
export const LOCAL_SETTINGS_PATH = path.join(process.cwd(), 'local.settings.json');

/**
 * local.settings.json Values under the process environment, as Core Tools applies them:
 * a variable already set in the environment wins.
 */
export function localSettings(
  env: NodeJS.ProcessEnv = process.env,
  file: string = LOCAL_SETTINGS_PATH,
): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = {};
  if (existsSync(file)) {
    const contents = JSON.parse(readFileSync(file, 'utf8')) as {
      Values?: Record<string, unknown>;
    };
    for (const [name, value] of Object.entries(contents.Values ?? {})) {
      if (value !== undefined && value !== null && value !== '') merged[name] = String(value);
    }
  }
  for (const [name, value] of Object.entries(env)) if (value !== undefined) merged[name] = value;
  return merged;
}
