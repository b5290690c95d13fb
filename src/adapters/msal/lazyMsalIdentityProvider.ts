import type { IdentityProvider } from '../../ports/IdentityProvider';
import type { MsalIdentityProviderOptions } from './MsalIdentityProvider';

/**
 * The MSAL identity provider, loaded on first use: msal-node (and the jsonwebtoken it pulls in)
 * is a large part of start-up, and a process that only answers signed-in requests never needs
 * it. Nothing outside this import may import msal-node's code, or the bundle loads it at start.
 */
export function lazyMsalIdentityProvider(options: MsalIdentityProviderOptions): IdentityProvider {
  let provider: Promise<IdentityProvider> | undefined;
  const load = () =>
    (provider ??= import('./MsalIdentityProvider').then(
      (msal) => new msal.MsalIdentityProvider(options),
    ));
  return {
    metadata: async () => (await load()).metadata(),
    buildAuthorizationUrl: async (request) => (await load()).buildAuthorizationUrl(request),
    redeemCode: async (redemption) => (await load()).redeemCode(redemption),
    refreshAccessToken: async (refresh) => (await load()).refreshAccessToken(refresh),
  };
}
