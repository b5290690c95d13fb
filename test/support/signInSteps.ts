import { BrowserClient, pickEmulatorUser, type ClientResponse } from './browserClient';

/** The steps of a sign-in as a browser takes them, split so tests can interleave them. */

/**
 * Browsers for one test file, all closed together in afterAll. Like a person's browser, they
 * trust nothing extra: they meet the emulator only at its http front door, never on https.
 */
export function browserPool() {
  const clients: BrowserClient[] = [];
  return {
    open(): BrowserClient {
      const client = new BrowserClient();
      clients.push(client);
      return client;
    },
    closeAll: () => Promise.all(clients.map((c) => c.close())),
  };
}

export const USERS = {
  adele: 'adele.vance@contoso.dev',
  alex: 'alex.wilber@contoso.dev',
  megan: 'megan.bowen@contoso.dev',
  /** In 250 groups: his ID token carries Entra's overage marker instead of groups. */
  nestor: 'nestor.wilke@contoso.dev',
} as const;

export const isCallback = (url: URL) => url.pathname === '/api/auth/callback';

/** From the app's login URL to the emulator's login page. */
export async function openLogin(
  client: BrowserClient,
  appOrigin: string,
  query = '',
): Promise<ClientResponse> {
  const { final } = await client.follow(`${appOrigin}/api/auth/login${query}`);
  if (final.status !== 200 || !final.body.includes('name="username"')) {
    throw new Error(
      `expected the emulator's login page, got ${final.status} at ${final.url}\n${final.body.slice(0, 500)}`,
    );
  }
  return final;
}

/** Picks a user on the login page; returns the callback URL the provider sends the browser to. */
export async function pickUser(
  client: BrowserClient,
  loginPage: ClientResponse,
  username: string,
): Promise<string> {
  const picked = await pickEmulatorUser(client, loginPage, username);
  const { final } = picked.location
    ? await client.follow(picked.location, {}, { stopAt: isCallback })
    : { final: picked };
  if (!final.location || !isCallback(new URL(final.location))) {
    throw new Error(
      `expected a redirect to the callback, got ${final.status} at ${final.url}\n${final.body.slice(0, 500)}`,
    );
  }
  return final.location;
}

/** A whole sign-in; returns the callback's response (302 to the return URL on success). */
export async function signIn(
  client: BrowserClient,
  appOrigin: string,
  options: { returnTo?: string; user?: string; scope?: string } = {},
): Promise<ClientResponse> {
  const params = new URLSearchParams();
  if (options.returnTo) params.set('returnTo', options.returnTo);
  if (options.scope) params.set('scope', options.scope);
  const query = params.size > 0 ? `?${params.toString()}` : '';
  const loginPage = await openLogin(client, appOrigin, query);
  const callbackUrl = await pickUser(client, loginPage, options.user ?? USERS.adele);
  return client.request(callbackUrl);
}

/** A new browser of the pool, signed in with Graph's User.Read consented at sign-in, on the demo. */
export async function signedInWithGraphConsent(
  pool: ReturnType<typeof browserPool>,
  appOrigin: string,
  user: string,
): Promise<BrowserClient> {
  const client = pool.open();
  const done = await signIn(client, appOrigin, { returnTo: '/api/demo', user, scope: 'User.Read' });
  if (done.status !== 302) {
    throw new Error(`sign-in with User.Read: the callback answered ${done.status}, not 302`);
  }
  return client;
}

export async function me(client: BrowserClient, appOrigin: string): Promise<ClientResponse> {
  return client.request(`${appOrigin}/api/auth/me`, { headers: { accept: 'application/json' } });
}
