import { FALLBACK_RETURN_TO, resolveReturnTo } from './auth/returnTo';
import { routePath, routes } from './routes';

/**
 * Settings, read and validated once at start-up. Every problem is collected and reported in one
 * error, so a deployment is fixed in one pass rather than one restart per typo.
 */

export type Credential =
  | { kind: 'secret'; clientSecret: string }
  | { kind: 'certificate'; certificatePath: string }
  | { kind: 'managedIdentity'; managedIdentityClientId: string };

export type StorageSettings =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'tableEndpoint'; tableEndpoint: string };

export interface AuthConfig {
  clientId: string;
  /** Authority URL without a trailing slash, e.g. https://login.microsoftonline.com/<tenant>. */
  authority: string;
  credential: Credential;
  redirectUri: URL;
  postLogoutRedirectUri: URL;
  /** Where a sign-in without a (valid) returnTo lands: a same-origin path or an allowed URL. */
  defaultReturnTo: string;
  /** Tenant ids allowed to sign in; empty: the tenant the authority's issuer names. */
  allowedTenants: readonly string[];
  allowedRedirectOrigins: readonly string[];
  scopes: readonly string[];
  storage: StorageSettings;
  flowTtlSeconds: number;
  sessionIdleSeconds: number;
  sessionAbsoluteSeconds: number;
  /** Total time one Table Storage operation may take, the SDK's retries included. */
  storageTimeoutMs: number;
  /** Time one call to the identity provider (discovery, token endpoint, keys) may take. */
  idpTimeoutMs: number;
  /** Where the app calls Microsoft Graph as the user (the emulator locally). */
  graphBaseUrl: URL;
  /** Client capabilities declared to Entra, e.g. `cp1` for Continuous Access Evaluation. */
  clientCapabilities: readonly string[];
}

/** Every setting the app reads (README, Settings). */
export const SETTING_NAMES = [
  'AUTH_CLIENT_ID',
  'AUTH_TENANT_ID',
  'AUTH_AUTHORITY',
  'AUTH_CLIENT_SECRET',
  'AUTH_CLIENT_CERTIFICATE_PATH',
  'AUTH_MANAGED_IDENTITY_CLIENT_ID',
  'AUTH_REDIRECT_URI',
  'AUTH_POST_LOGOUT_REDIRECT_URI',
  'AUTH_DEFAULT_RETURN_TO',
  'AUTH_ALLOWED_TENANTS',
  'AUTH_ALLOWED_REDIRECT_ORIGINS',
  'AUTH_SCOPES',
  'AUTH_STORAGE_CONNECTION_STRING',
  'AUTH_STORAGE_TABLE_ENDPOINT',
  'AUTH_FLOW_TTL_SECONDS',
  'AUTH_SESSION_IDLE_SECONDS',
  'AUTH_SESSION_ABSOLUTE_SECONDS',
  'AUTH_STORAGE_TIMEOUT_MS',
  'AUTH_IDP_TIMEOUT_MS',
  'AUTH_GRAPH_BASE_URL',
  'AUTH_CLIENT_CAPABILITIES',
] as const;

export const DEFAULT_STORAGE_TIMEOUT_MS = 5_000;
export const DEFAULT_IDP_TIMEOUT_MS = 10_000;

export const DEFAULT_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';
const MULTI_TENANT_SEGMENTS = new Set(['organizations', 'common', 'consumers']);
const DEFAULT_LOCAL_PORT = 7071;
/** Browsers treat these as secure contexts (Secure cookies work over plain http there). */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid settings (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** A setting's parser: its value, undefined when not set, or a thrown Invalid naming the problem. */
type Field<T> = (raw: string | undefined) => T;

class Invalid extends Error {}

const optionalText: Field<string | undefined> = (raw) => raw?.trim() || undefined;

const required: Field<string | undefined> = (raw) => {
  const value = optionalText(raw);
  if (value === undefined) throw new Invalid('is required');
  return value;
};

const matching =
  (pattern: RegExp, message: string): Field<string | undefined> =>
  (raw) => {
    const value = optionalText(raw);
    if (value !== undefined && !pattern.test(value)) throw new Invalid(message);
    return value;
  };

/** A URL of one of the given schemes; the URL parser drops tabs and newlines, so does this. */
const urlOf = (schemes: RegExp, message: string): Field<string | undefined> => {
  const prefix = new RegExp(`^${schemes.source}://`, 'i');
  return (raw) => {
    const value = optionalText(raw)?.replace(/[\t\n\r]/g, '');
    if (value === undefined) return undefined;
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (!url || !prefix.test(value) || !schemes.test(url.protocol.slice(0, -1))) {
      throw new Invalid(message);
    }
    return value;
  };
};
const httpsUrl = urlOf(/https/, 'must be an https URL');
const httpUrl = urlOf(/https?/, 'must be an http(s) URL');

const wholeNumber =
  (unit: string, min: number, max: number, maxText: string, fallback: number): Field<number> =>
  (raw) => {
    const text = optionalText(raw);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value)) throw new Invalid(`must be a whole number of ${unit}`);
    if (value < min) throw new Invalid(`must be at least ${min} ${unit}`);
    if (value > max) throw new Invalid(`must be at most ${maxText}`);
    return value;
  };
const seconds = (fallback: number) =>
  wholeNumber('seconds', 10, 31 * 24 * 3600, '31 days', fallback);
const milliseconds = (fallback: number) =>
  wholeNumber('milliseconds', 100, 120_000, '120000 milliseconds (2 minutes)', fallback);

const commaList: Field<string[]> = (raw) =>
  (optionalText(raw) ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Every setting's parser, in the order problems are reported. */
const settingsSchema = {
  AUTH_CLIENT_ID: required,
  AUTH_TENANT_ID: matching(/^[A-Za-z0-9.-]+$/, 'must be a tenant id or domain'),
  AUTH_AUTHORITY: httpsUrl,
  AUTH_CLIENT_SECRET: optionalText,
  AUTH_CLIENT_CERTIFICATE_PATH: optionalText,
  AUTH_MANAGED_IDENTITY_CLIENT_ID: optionalText,
  AUTH_REDIRECT_URI: httpUrl,
  AUTH_POST_LOGOUT_REDIRECT_URI: httpUrl,
  AUTH_DEFAULT_RETURN_TO: optionalText,
  AUTH_ALLOWED_TENANTS: commaList,
  AUTH_ALLOWED_REDIRECT_ORIGINS: commaList,
  AUTH_SCOPES: (raw) =>
    commaList(raw)
      .flatMap((x) => x.split(/\s+/))
      .filter(Boolean),
  AUTH_STORAGE_CONNECTION_STRING: optionalText,
  AUTH_STORAGE_TABLE_ENDPOINT: httpsUrl,
  AUTH_FLOW_TTL_SECONDS: seconds(600),
  AUTH_SESSION_IDLE_SECONDS: seconds(3600),
  AUTH_SESSION_ABSOLUTE_SECONDS: seconds(28800),
  AUTH_STORAGE_TIMEOUT_MS: milliseconds(DEFAULT_STORAGE_TIMEOUT_MS),
  AUTH_IDP_TIMEOUT_MS: milliseconds(DEFAULT_IDP_TIMEOUT_MS),
  // Tokens travel to Graph: https only, as for the authority.
  AUTH_GRAPH_BASE_URL: httpsUrl,
  AUTH_CLIENT_CAPABILITIES: (raw) => {
    const names = commaList(raw);
    if (names.some((name) => !/^[A-Za-z0-9_-]{1,32}$/.test(name))) {
      throw new Invalid('must be capability names like cp1');
    }
    return names;
  },
} satisfies Record<string, Field<unknown>>;

/** The settings that parsed; an invalid one is absent (its problem is already reported). */
type Settings = { [K in keyof typeof settingsSchema]?: ReturnType<(typeof settingsSchema)[K]> };

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates every setting; throws one ConfigError naming every problem. */
export function loadConfig(env: Env): AuthConfig {
  const problems: string[] = [];
  const s = parseSettings(env, problems);

  // A setting given but invalid is reported once, by the schema, not again as "missing".
  const given = (name: string) => Boolean(env[name]?.trim());
  const authority = resolveAuthority(s, problems, given);
  const tenant = authority ? tenantOf(authority) : '';
  const credential = resolveCredential(s, problems);
  const storage = resolveStorage(s, problems, given);
  const redirectUri = new URL(s.AUTH_REDIRECT_URI ?? defaultRedirectUri(env));
  const postLogoutRedirectUri = new URL(
    s.AUTH_POST_LOGOUT_REDIRECT_URI ?? `${redirectUri.origin}/`,
  );

  // Left empty for a single-tenant authority, the tenant is the one its issuer names: tokens
  // carry the tenant id, which the configured tenant (a domain, say) may not be.
  const allowedTenants = s.AUTH_ALLOWED_TENANTS ?? [];
  if (allowedTenants.length === 0 && MULTI_TENANT_SEGMENTS.has(tenant.toLowerCase())) {
    problems.push(
      `AUTH_ALLOWED_TENANTS is required with the multi-tenant authority "${tenant}": list the tenant ids allowed to sign in`,
    );
  }

  const allowedRedirectOrigins: string[] = [];
  for (const origin of s.AUTH_ALLOWED_REDIRECT_ORIGINS ?? []) {
    const normalised = originOf(origin);
    if (normalised) allowedRedirectOrigins.push(normalised);
    else
      problems.push(
        `AUTH_ALLOWED_REDIRECT_ORIGINS entry "${origin}" is not an origin like https://app.example.com`,
      );
  }

  // The default landing passes the same check as any returnTo: it can never open a redirect.
  const defaultLanding = resolveReturnTo(
    s.AUTH_DEFAULT_RETURN_TO,
    allowedRedirectOrigins,
    FALLBACK_RETURN_TO,
  );
  if (defaultLanding.rejected) {
    problems.push(
      `AUTH_DEFAULT_RETURN_TO must be a same-origin path like /app, or a URL on an origin of AUTH_ALLOWED_REDIRECT_ORIGINS (${defaultLanding.rejected})`,
    );
  }

  const flowTtlSeconds = s.AUTH_FLOW_TTL_SECONDS ?? 600;
  const sessionIdleSeconds = s.AUTH_SESSION_IDLE_SECONDS ?? 3600;
  const sessionAbsoluteSeconds = s.AUTH_SESSION_ABSOLUTE_SECONDS ?? 28800;
  if (sessionIdleSeconds > sessionAbsoluteSeconds) {
    problems.push(
      `AUTH_SESSION_IDLE_SECONDS (${sessionIdleSeconds}) must not exceed AUTH_SESSION_ABSOLUTE_SECONDS (${sessionAbsoluteSeconds})`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    clientId: s.AUTH_CLIENT_ID as string,
    authority: authority as string,
    credential: credential as Credential,
    redirectUri,
    postLogoutRedirectUri,
    defaultReturnTo: defaultLanding.returnTo,
    allowedTenants,
    allowedRedirectOrigins,
    scopes: unique([...DEFAULT_SCOPES, ...(s.AUTH_SCOPES ?? [])]),
    storage: storage as StorageSettings,
    flowTtlSeconds,
    sessionIdleSeconds,
    sessionAbsoluteSeconds,
    storageTimeoutMs: s.AUTH_STORAGE_TIMEOUT_MS ?? DEFAULT_STORAGE_TIMEOUT_MS,
    idpTimeoutMs: s.AUTH_IDP_TIMEOUT_MS ?? DEFAULT_IDP_TIMEOUT_MS,
    graphBaseUrl: new URL(s.AUTH_GRAPH_BASE_URL ?? DEFAULT_GRAPH_BASE_URL),
    clientCapabilities: s.AUTH_CLIENT_CAPABILITIES ?? [],
  };
}

/** Each setting on its own, so one pass reports every problem; the cross-setting checks follow. */
function parseSettings(env: Env, problems: string[]): Settings {
  const out: Record<string, unknown> = {};
  for (const [name, parse] of Object.entries(settingsSchema) as [string, Field<unknown>][]) {
    try {
      out[name] = parse(env[name]);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      problems.push(`${name} ${error.message}`);
    }
  }
  return out as Settings;
}

function resolveAuthority(
  s: Settings,
  problems: string[],
  given: (name: string) => boolean,
): string | undefined {
  if (s.AUTH_AUTHORITY) {
    const url = new URL(s.AUTH_AUTHORITY);
    const path = url.pathname.replace(/\/+$/, '');
    if (!path || path === '') {
      problems.push('AUTH_AUTHORITY must end with the tenant, e.g. https://host/<tenant>');
      return undefined;
    }
    if (url.search || url.hash) {
      problems.push('AUTH_AUTHORITY must not have a query or fragment');
      return undefined;
    }
    return `${url.origin}${path}`;
  }
  if (s.AUTH_TENANT_ID) return `https://login.microsoftonline.com/${s.AUTH_TENANT_ID}`;
  if (!given('AUTH_AUTHORITY') && !given('AUTH_TENANT_ID')) {
    problems.push('AUTH_TENANT_ID is required unless AUTH_AUTHORITY is set');
  }
  return undefined;
}

function tenantOf(authority: string): string {
  return new URL(authority).pathname.split('/').filter(Boolean).pop() ?? '';
}

function resolveCredential(s: Settings, problems: string[]): Credential | undefined {
  const given: Credential[] = [];
  if (s.AUTH_CLIENT_SECRET) given.push({ kind: 'secret', clientSecret: s.AUTH_CLIENT_SECRET });
  if (s.AUTH_CLIENT_CERTIFICATE_PATH)
    given.push({ kind: 'certificate', certificatePath: s.AUTH_CLIENT_CERTIFICATE_PATH });
  if (s.AUTH_MANAGED_IDENTITY_CLIENT_ID)
    given.push({
      kind: 'managedIdentity',
      managedIdentityClientId: s.AUTH_MANAGED_IDENTITY_CLIENT_ID,
    });
  if (given.length === 1) return given[0];
  problems.push(
    given.length === 0
      ? 'no credential: set exactly one of AUTH_CLIENT_SECRET, AUTH_CLIENT_CERTIFICATE_PATH, AUTH_MANAGED_IDENTITY_CLIENT_ID'
      : `several credentials (${given.map((g) => g.kind).join(', ')}): set exactly one of AUTH_CLIENT_SECRET, AUTH_CLIENT_CERTIFICATE_PATH, AUTH_MANAGED_IDENTITY_CLIENT_ID`,
  );
  return undefined;
}

function resolveStorage(
  s: Settings,
  problems: string[],
  given: (name: string) => boolean,
): StorageSettings | undefined {
  if (s.AUTH_STORAGE_CONNECTION_STRING && s.AUTH_STORAGE_TABLE_ENDPOINT) {
    problems.push(
      'both AUTH_STORAGE_CONNECTION_STRING and AUTH_STORAGE_TABLE_ENDPOINT are set: keep one',
    );
    return undefined;
  }
  if (s.AUTH_STORAGE_CONNECTION_STRING) {
    if (!storageTransportIsSafe(s.AUTH_STORAGE_CONNECTION_STRING)) {
      problems.push(
        'AUTH_STORAGE_CONNECTION_STRING uses plain http to a host other than loopback: flow records and sessions would cross the network unencrypted (http is for Azurite on 127.0.0.1 only)',
      );
      return undefined;
    }
    return { kind: 'connectionString', connectionString: s.AUTH_STORAGE_CONNECTION_STRING };
  }
  if (s.AUTH_STORAGE_TABLE_ENDPOINT)
    return { kind: 'tableEndpoint', tableEndpoint: s.AUTH_STORAGE_TABLE_ENDPOINT };
  if (given('AUTH_STORAGE_TABLE_ENDPOINT')) return undefined;
  problems.push(
    'no storage: set AUTH_STORAGE_TABLE_ENDPOINT (managed identity) or AUTH_STORAGE_CONNECTION_STRING (e.g. UseDevelopmentStorage=true for Azurite)',
  );
  return undefined;
}

/** Plain http to storage only for the emulator on loopback (Azurite); https everywhere else. */
export function storageTransportIsSafe(connectionString: string): boolean {
  if (/(^|;)\s*UseDevelopmentStorage=true/i.test(connectionString)) return true;
  const endpoint = /(?:^|;)\s*TableEndpoint=([^;]+)/i.exec(connectionString)?.[1];
  if (endpoint) {
    try {
      const url = new URL(endpoint);
      return url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname);
    } catch {
      return false;
    }
  }
  return !/(?:^|;)\s*DefaultEndpointsProtocol=http(;|$)/i.test(connectionString);
}

/** In Azure, the app's own host name over https; locally, the port the host serves on. */
function defaultRedirectUri(env: Env): string {
  if (env.WEBSITE_INSTANCE_ID && env.WEBSITE_HOSTNAME) {
    return `https://${env.WEBSITE_HOSTNAME}${routePath(routes.callback)}`;
  }
  const port = Number(env.PORT) || DEFAULT_LOCAL_PORT;
  return `http://localhost:${port}${routePath(routes.callback)}`;
}

function originOf(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    if (url.origin === 'null' || value.replace(/\/$/, '') !== url.origin) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
