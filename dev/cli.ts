import { ConfigError, loadConfig } from '../src/config';
import { parseArgs } from 'node:util';

/**
 * Command-line options of the dev scripts (`npm start`, `npm run serve`), checked before
 * anything is built or started, and the one-line message a user mistake deserves.
 */

/** A mistake in the command or the settings: printed as one line, no stack trace. */
export class UsageError extends Error {}

export interface DevOptions {
  help: boolean;
  port: number;
  /** The script's own boolean flags, by name. */
  flags: Record<string, boolean>;
  /** The script's own options with a value, by name (undefined when not given). */
  values: Record<string, string | undefined>;
}

const PORT_HELP = '  --port <n>      port of the functions host (default: PORT, else 7071)';

export function parseDevOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  usage: string,
  /** Extra boolean flags: name to its --help line. */
  extraFlags: Record<string, string> = {},
  /** Extra options that take a value: name to its --help line. */
  extraValues: Record<string, string> = {},
): DevOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        port: { type: 'string' },
        ...Object.fromEntries(
          Object.keys(extraFlags).map((name) => [name, { type: 'boolean' as const }]),
        ),
        ...Object.fromEntries(
          Object.keys(extraValues).map((name) => [name, { type: 'string' as const }]),
        ),
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see --help)`, { cause: error });
  }
  const help = parsed.values.help ?? false;
  if (help) {
    const lines = [
      PORT_HELP,
      ...Object.values({ ...extraValues, ...extraFlags }).map((l) => `  ${l}`),
    ];
    console.log(`${usage}\n\nOptions:\n${lines.join('\n')}\n  -h, --help      this text`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const port = parsePort(String(values.port ?? env.PORT ?? '7071'));
  const flags = Object.fromEntries(Object.keys(extraFlags).map((n) => [n, values[n] === true]));
  const extra = Object.fromEntries(
    Object.keys(extraValues).map((n) => [n, typeof values[n] === 'string' ? values[n] : undefined]),
  );
  return { help, port, flags, values: extra };
}

/** A whole number within [min, max], or a one-line usage error naming the option. */
export function parseCount(option: string, text: string, min: number, max: number): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < min || count > max) {
    throw new UsageError(`Invalid --${option} "${text}": expected a number from ${min} to ${max}.`);
  }
  return count;
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(`Invalid port "${text}": expected a number from 0 to 65535.`);
  }
  return port;
}

/**
 * The message for a failure to start: one line for a user's mistake or a port in use, else
 * undefined (a bug: the caller prints the whole error).
 */
export function oneLineStartFailure(error: unknown): string | undefined {
  if (error instanceof UsageError) return error.message;
  const errno = error as (NodeJS.ErrnoException & { port?: number; cause?: unknown }) | undefined;
  const inUse = [
    errno,
    errno?.cause as (NodeJS.ErrnoException & { port?: number }) | undefined,
  ].find((e) => e?.code === 'EADDRINUSE');
  if (inUse) {
    const port = inUse.port === undefined ? 'The port' : `Port ${inUse.port}`;
    return `${port} is already in use: stop what uses it, or choose another with --port or PORT.`;
  }
  return undefined;
}

/** The settings' problems as the app will see them, or none: for an honest banner. */
export function settingsProblems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    return [error instanceof Error ? error.message : String(error)];
  }
}

/** The banner's warning for bad settings: what is wrong and what the app does meanwhile. */
export function misconfiguredBanner(problems: readonly string[]): string {
  return [
    `  MISCONFIGURED: sign-in answers 500 "misconfigured" until these settings are fixed:`,
    ...problems.map((p) => `    - ${p}`),
  ].join('\n');
}
