import { GraphGroupDirectory } from './adapters/graph/GraphGroupDirectory';
import { createTableClient } from './adapters/tables/createTableClient';
import { TableAuthStore } from './adapters/tables/TableAuthStore';
import { TableSessionGroupsStore } from './adapters/tables/TableSessionGroupsStore';
import { TableTokenCacheStore } from './adapters/tables/TableTokenCacheStore';
import { msalCredential } from './adapters/msal/credentials';
import { lazyMsalIdentityProvider } from './adapters/msal/lazyMsalIdentityProvider';
import { ProviderKeySet } from './adapters/msal/ProviderKeySet';
import type { AuthContext } from './auth/AuthContext';
import { FLOW_RETENTION_SECONDS } from './auth/cookies';
import { AuthError } from './auth/errors';
import { SingleFlight } from './auth/singleFlight';
import { loadConfig, type AuthConfig } from './config';
import type { AuthStore } from './ports/AuthStore';
import { systemClock, type Clock } from './ports/Clock';
import type { IdentityProvider } from './ports/IdentityProvider';
import type { Logger } from './ports/Logger';
import type { GroupDirectory, SessionGroupsStore } from './ports/GroupDirectory';
import type { SigningKeys } from './ports/SigningKeys';
import type { TokenCacheStore } from './ports/TokenCacheStore';

/** The one place that turns settings into adapters and wires them to the ports. */

export interface AppServices {
  config: AuthConfig;
  store: AuthStore;
  tokenCache: TokenCacheStore;
  sessionGroups: SessionGroupsStore;
  groupDirectory: GroupDirectory;
  refreshes: SingleFlight;
  identityProvider: IdentityProvider;
  signingKeys: SigningKeys;
  clock: Clock;
}

const processLog: Logger = {
  info: (m) => console.info(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

let built: { services: AppServices } | { error: Error } | undefined;

/**
 * Reads the settings and builds the adapters, once per process (no I/O here: discovery and
 * the table are touched at first use). A bad configuration is logged once, naming every
 * problem, and every request then answers `misconfigured`.
 */
export function initialise(env: NodeJS.ProcessEnv = process.env): void {
  try {
    built = { services: buildServices(loadConfig(env)) };
  } catch (error) {
    built = { error: error as Error };
    processLog.error(`auth: ${(error as Error).message}`);
  }
}

export function services(): AppServices {
  if (!built) initialise();
  if (built && 'services' in built) return built.services;
  const error = built?.error;
  throw new AuthError('misconfigured', error?.message ?? 'not initialised', { cause: error });
}

/** The services plus the per-request logger: what the use cases take. */
export function authContext(log: Logger): AuthContext {
  return { ...services(), log };
}

function buildServices(config: AuthConfig): AppServices {
  const identityProvider = lazyMsalIdentityProvider({
    clientId: config.clientId,
    authority: config.authority,
    credential: msalCredential(config.credential),
    redirectUri: config.redirectUri.href,
    scopes: config.scopes,
    clientCapabilities: config.clientCapabilities,
    log: processLog,
    timeoutMs: config.idpTimeoutMs,
  });
  const managedIdentityClientId =
    config.credential.kind === 'managedIdentity'
      ? config.credential.managedIdentityClientId
      : undefined;
  const tableClient = createTableClient(config.storage, managedIdentityClientId);
  const store = new TableAuthStore(
    tableClient,
    {
      flowTtlSeconds: config.flowTtlSeconds,
      flowRetentionSeconds: FLOW_RETENTION_SECONDS,
      sessionAbsoluteSeconds: config.sessionAbsoluteSeconds,
    },
    { operationTimeoutMs: config.storageTimeoutMs },
  );
  return {
    config,
    store,
    // The token caches live beside the sessions, in the same table.
    tokenCache: new TableTokenCacheStore(tableClient, {
      operationTimeoutMs: config.storageTimeoutMs,
    }),
    sessionGroups: new TableSessionGroupsStore(tableClient, {
      operationTimeoutMs: config.storageTimeoutMs,
    }),
    groupDirectory: new GraphGroupDirectory(config.graphBaseUrl),
    refreshes: new SingleFlight(),
    identityProvider,
    // The JWKS URL comes from discovery, which happens at first use, not at start-up.
    signingKeys: new ProviderKeySet({
      jwksUri: async () => (await identityProvider.metadata()).jwksUri,
      timeoutMs: config.idpTimeoutMs,
      log: processLog,
    }).getKey,
    clock: systemClock,
  };
}
