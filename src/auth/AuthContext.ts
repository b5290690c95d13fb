import type { AuthConfig } from '../config';
import type { AuthStore } from '../ports/AuthStore';
import type { Clock } from '../ports/Clock';
import type { GroupDirectory, SessionGroupsStore } from '../ports/GroupDirectory';
import type { IdentityProvider } from '../ports/IdentityProvider';
import type { Logger } from '../ports/Logger';
import type { SigningKeys } from '../ports/SigningKeys';
import type { TokenCacheStore } from '../ports/TokenCacheStore';
import type { SingleFlight } from './singleFlight';

/** What the use cases need: settings, the ports, and the per-request logger. */
export interface AuthContext {
  config: Pick<
    AuthConfig,
    | 'clientId'
    | 'redirectUri'
    | 'postLogoutRedirectUri'
    | 'defaultReturnTo'
    | 'allowedTenants'
    | 'allowedRedirectOrigins'
    | 'flowTtlSeconds'
    | 'sessionIdleSeconds'
    | 'sessionAbsoluteSeconds'
    | 'idpTimeoutMs'
  >;
  store: AuthStore;
  /** The sessions' token caches (beside the sessions, same keys). */
  tokenCache: TokenCacheStore;
  /** Groups resolved through Graph on overage (beside the sessions, same keys). */
  sessionGroups: SessionGroupsStore;
  groupDirectory: GroupDirectory;
  /** One refresh per session and scope set at a time, within this instance. */
  refreshes: SingleFlight;
  identityProvider: IdentityProvider;
  /** The provider's signing keys, for ID token validation. */
  signingKeys: SigningKeys;
  clock: Clock;
  log: Logger;
}
