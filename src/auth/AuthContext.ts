import type { JWTVerifyGetKey } from 'jose';
import type { AuthConfig } from '../config';
import type { AuthStore } from '../ports/AuthStore';
import type { Clock } from '../ports/Clock';
import type { IdentityProvider } from '../ports/IdentityProvider';
import type { Logger } from '../ports/Logger';

/** What the use cases need: settings, the ports, and the per-request logger. */
export interface AuthContext {
  config: Pick<
    AuthConfig,
    | 'clientId'
    | 'redirectUri'
    | 'postLogoutRedirectUri'
    | 'allowedTenants'
    | 'allowedRedirectOrigins'
    | 'flowTtlSeconds'
    | 'sessionIdleSeconds'
    | 'sessionAbsoluteSeconds'
  >;
  store: AuthStore;
  identityProvider: IdentityProvider;
  /** The provider's signing keys, for ID token validation. */
  signingKeys: JWTVerifyGetKey;
  clock: Clock;
  log: Logger;
}
