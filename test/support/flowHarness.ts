import { MemoryAuthStore } from '../../src/adapters/memory/MemoryAuthStore';
import { MemorySessionGroupsStore } from '../../src/adapters/memory/MemorySessionGroupsStore';
import type { AuthContext } from '../../src/auth/AuthContext';
import { SingleFlight } from '../../src/auth/singleFlight';
import { FLOW_RETENTION_SECONDS, type CookieToSet } from '../../src/auth/cookies';
import type { GroupDirectory, GroupLookupBounds } from '../../src/ports/GroupDirectory';
import type { Logger } from '../../src/ports/Logger';
import { FAKE_CLIENT_ID, FAKE_TENANT, FakeIdentityProvider } from './fakeIdentityProvider';

export const APP = 'https://app.contoso.test';

export class FakeClock {
  constructor(private current = new Date()) {}
  now = (): Date => new Date(this.current);
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

/** A browser's cookie jar, as far as the flow is concerned: name -> value, with expiry. */
export class FakeBrowser {
  readonly cookies = new Map<string, { value: string; expiresAt: number }>();
  constructor(private readonly clock: FakeClock) {}

  apply(cookies: CookieToSet[]): void {
    for (const cookie of cookies) {
      if (cookie.maxAgeSeconds <= 0) this.cookies.delete(cookie.name);
      else
        this.cookies.set(cookie.name, {
          value: cookie.value,
          expiresAt: this.clock.now().getTime() + cookie.maxAgeSeconds * 1000,
        });
    }
  }

  jar(): Record<string, string> {
    const now = this.clock.now().getTime();
    const jar: Record<string, string> = {};
    for (const [name, cookie] of this.cookies) if (cookie.expiresAt > now) jar[name] = cookie.value;
    return jar;
  }
}

/** Graph's group lookup as a fake: the groups to answer, or the failure to throw. */
export class FakeGroupDirectory implements GroupDirectory {
  groupIds: string[] = [];
  failure?: Error;
  calls: { accessToken: string; bounds: GroupLookupBounds }[] = [];

  async memberGroupIds(accessToken: string, bounds: GroupLookupBounds): Promise<string[]> {
    this.calls.push({ accessToken, bounds });
    if (this.failure) throw this.failure;
    return [...this.groupIds];
  }
}

export interface Harness {
  ctx: AuthContext;
  groupDirectory: FakeGroupDirectory;
  sessionGroups: MemorySessionGroupsStore;
  store: MemoryAuthStore;
  idp: FakeIdentityProvider;
  clock: FakeClock;
  logs: string[];
}

export async function createHarness(
  overrides: Partial<AuthContext['config']> = {},
): Promise<Harness> {
  const clock = new FakeClock();
  const idp = await FakeIdentityProvider.create();
  idp.now = clock.now;
  const config: AuthContext['config'] = {
    clientId: FAKE_CLIENT_ID,
    redirectUri: new URL(`${APP}/api/auth/callback`),
    postLogoutRedirectUri: new URL(`${APP}/`),
    defaultReturnTo: '/',
    allowedTenants: [FAKE_TENANT],
    allowedRedirectOrigins: [],
    flowTtlSeconds: 600,
    sessionIdleSeconds: 3600,
    sessionAbsoluteSeconds: 28800,
    idpTimeoutMs: 10_000,
    ...overrides,
  };
  const store = new MemoryAuthStore({
    flowTtlSeconds: config.flowTtlSeconds,
    flowRetentionSeconds: FLOW_RETENTION_SECONDS,
    sessionAbsoluteSeconds: config.sessionAbsoluteSeconds,
  });
  const logs: string[] = [];
  const log: Logger = {
    info: (m) => logs.push(m),
    warn: (m) => logs.push(m),
    error: (m) => logs.push(m),
  };
  // Real time for token validity: the fake IdP signs with the wall clock.
  const groupDirectory = new FakeGroupDirectory();
  const sessionGroups = new MemorySessionGroupsStore();
  const ctx: AuthContext = {
    config,
    store,
    tokenCache: store.tokenCaches,
    sessionGroups,
    groupDirectory,
    refreshes: new SingleFlight(),
    identityProvider: idp,
    signingKeys: idp.signingKeys,
    clock,
    log,
  };
  return { ctx, store, idp, clock, logs, groupDirectory, sessionGroups };
}
