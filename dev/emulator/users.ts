/** The emulator's test users and the claims Entra would issue for them. */

export interface TestUser {
  oid: string;
  preferred_username: string;
  name: string;
  email: string;
  roles: string[];
  groups: string[];
  /** Another tenant than the emulator's own (a guest-free second tenant, for multi-tenant tests). */
  tenantId?: string;
}

/** The user's home tenant: its own, or the emulator's. */
export function tenantOf(user: TestUser, emulatorTenantId: string): string {
  return user.tenantId ?? emulatorTenantId;
}

export function validateUsers(users: TestUser[]): TestUser[] {
  const seen = new Set<string>();
  for (const user of users) {
    for (const field of ['oid', 'preferred_username', 'name', 'email'] as const) {
      if (typeof user[field] !== 'string' || !user[field]) {
        throw new Error(`Emulator user ${JSON.stringify(user.name)} has no ${field}.`);
      }
    }
    if (!Array.isArray(user.roles) || !Array.isArray(user.groups)) {
      throw new Error(`Emulator user ${user.name} needs roles and groups arrays.`);
    }
    for (const key of [user.oid, user.preferred_username.toLowerCase()]) {
      if (seen.has(key)) throw new Error(`Emulator users repeat ${key}.`);
      seen.add(key);
    }
  }
  return users;
}

/**
 * The claims Entra puts in a v2.0 ID token, filtered by scope through the `claims` config.
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference
 */
export function entraClaims(
  user: TestUser,
  emulatorTenantId: string,
  use: string,
): Record<string, unknown> {
  const tenantId = tenantOf(user, emulatorTenantId);
  return {
    sub: user.oid,
    oid: user.oid,
    tid: tenantId,
    ver: '2.0',
    name: user.name,
    preferred_username: user.preferred_username,
    email: user.email,
    // Entra leaves these out rather than sending empty arrays.
    ...(user.roles.length > 0 ? { roles: user.roles } : {}),
    ...groupsClaims(user, tenantId),
    // Entra's optional login_hint claim: an opaque value to send back as logout_hint/login_hint.
    login_hint: loginHintFor(user, tenantId),
    // oidc-provider sets iat and exp but not nbf, which Entra always sends.
    ...(use === 'id_token' ? { nbf: Math.floor(Date.now() / 1000) } : {}),
  };
}

/**
 * Entra's groups claim, or past 200 groups (a JWT's limit) its overage marker instead: no
 * `groups`, but `_claim_names` pointing at a `_claim_sources` entry (an old Graph URL).
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference#groups-overage-claim
 */
export const TOKEN_GROUPS_LIMIT = 200;
function groupsClaims(user: TestUser, tenantId: string): Record<string, unknown> {
  if (user.groups.length === 0) return {};
  if (user.groups.length <= TOKEN_GROUPS_LIMIT) return { groups: user.groups };
  return {
    _claim_names: { groups: 'src1' },
    _claim_sources: {
      src1: {
        endpoint: `https://graph.windows.net/${tenantId}/users/${user.oid}/getMemberObjects`,
      },
    },
  };
}

export function loginHintFor(user: TestUser, tenantId: string): string {
  return Buffer.from(JSON.stringify({ oid: user.oid, tid: tenantId })).toString('base64url');
}

/** Entra's token responses carry client_info; MSAL builds the home account id from it. */
export function clientInfoFor(oid: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: oid, utid: tenantId })).toString('base64url');
}

export function findUser(users: TestUser[], idOrName: string): TestUser | undefined {
  const wanted = idOrName.toLowerCase();
  return users.find((u) => u.oid === wanted || u.preferred_username.toLowerCase() === wanted);
}
