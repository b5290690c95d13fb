import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { bearerTokenOf, validateAccessToken } from '../../../src/auth/bearerTokens';
import type { AuthError } from '../../../src/auth/errors';

/** The multi-tenant issuer rule and the token shapes, with keys of the test's own. */

const CLIENT_ID = '11111111-1111-4111-8111-0000000c11e7';
const TENANT_A = 'aaaaaaaa-0000-4000-8000-00000000000a';
const TENANT_B = 'bbbbbbbb-0000-4000-8000-00000000000b';
const TEMPLATE = 'https://login.example/{tenantid}/v2.0';
const now = new Date();

let keys: ReturnType<typeof createLocalJWKSet>;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1' }] });
});

function token(claims: JWTPayload): Promise<string> {
  const seconds = Math.floor(now.getTime() / 1000);
  return new SignJWT({
    aud: CLIENT_ID,
    azp: 'cccccccc-0000-4000-8000-00000000000c',
    oid: 'user-oid',
    sub: 'pairwise-sub',
    scp: 'access_as_user',
    ver: '2.0',
    iat: seconds,
    nbf: seconds,
    exp: seconds + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
    .sign(privateKey);
}

const ofTenant = (tid: string, extra: JWTPayload = {}) =>
  token({ tid, iss: TEMPLATE.replace('{tenantid}', tid), ...extra });

function validate(jwt: string, allowedTenants = [TENANT_A], issuer = TEMPLATE) {
  return validateAccessToken(jwt, { clientId: CLIENT_ID, issuer, allowedTenants, now, keys });
}

async function refusal(jwt: Promise<string>, allowed?: string[]): Promise<AuthError> {
  return validate(await jwt, allowed).then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: AuthError) => error,
  );
}

describe('validateAccessToken with a multi-tenant ({tenantid}) issuer', () => {
  it('accepts a delegated token of an allowed tenant, its issuer built from its own tid', async () => {
    const caller = await validate(await ofTenant(TENANT_A));
    expect(caller).toMatchObject({ kind: 'delegated', scopes: ['access_as_user'] });
    expect(caller.user.tid).toBe(TENANT_A);
  });

  it('accepts the app ID URI as audience', async () => {
    await expect(
      validate(await ofTenant(TENANT_A, { aud: `api://${CLIENT_ID}` })),
    ).resolves.toBeDefined();
  });

  it('refuses a tenant not in AUTH_ALLOWED_TENANTS with tenant_not_allowed, and takes it once listed', async () => {
    expect((await refusal(ofTenant(TENANT_B))).code).toBe('tenant_not_allowed');
    await expect(validate(await ofTenant(TENANT_B), [TENANT_A, TENANT_B])).resolves.toBeDefined();
  });

  it("refuses a token whose issuer names another tenant than its tid (one tenant's token dressed as another's)", async () => {
    const mixed = token({ tid: TENANT_A, iss: TEMPLATE.replace('{tenantid}', TENANT_B) });
    expect((await refusal(mixed, [TENANT_A, TENANT_B])).code).toBe('invalid_access_token');
  });

  it('tells app-only tokens from ID tokens', async () => {
    const app = await validate(
      await ofTenant(TENANT_A, {
        scp: undefined,
        idtyp: 'app',
        roles: ['Admin.Read.All'],
        sub: 'sp',
        oid: 'sp',
      }),
    );
    expect(app.kind).toBe('app');
    // An ID token: aud is this client, but no azp and no scp.
    const idToken = ofTenant(TENANT_A, {
      azp: undefined,
      scp: undefined,
      roles: ['Admin'],
      nonce: 'n',
    });
    expect((await refusal(idToken)).details).toMatch(/ID token/);
    // No scp and not app-only (sub differs from oid, no idtyp): refused too.
    expect((await refusal(ofTenant(TENANT_A, { scp: undefined, roles: ['Admin'] }))).code).toBe(
      'invalid_access_token',
    );
  });

  it('refuses v1.0 tokens, expired ones and other audiences', async () => {
    expect((await refusal(ofTenant(TENANT_A, { ver: '1.0' }))).details).toMatch(/v2.0/);
    const past = Math.floor(now.getTime() / 1000) - 3600;
    expect(
      (await refusal(ofTenant(TENANT_A, { exp: past, iat: past - 60, nbf: past - 60 }))).details,
    ).toBe('expired');
    expect((await refusal(ofTenant(TENANT_A, { aud: 'another-app' }))).details).toMatch(/aud/);
  });
});

describe('bearerTokenOf', () => {
  it('reads RFC 6750 bearer credentials and nothing else', () => {
    expect(bearerTokenOf('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerTokenOf('bearer abc')).toBe('abc');
    expect(bearerTokenOf('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerTokenOf('Bearer a b')).toBeUndefined();
    expect(bearerTokenOf(null)).toBeUndefined();
  });
});

describe('group overage in access tokens', () => {
  it("when the token carries Entra's overage marker, then the caller's groups are marked unknown", async () => {
    const marked = await validate(
      await ofTenant(TENANT_A, { _claim_names: { groups: 'src1' }, _claim_sources: { src1: {} } }),
    );
    expect(marked.user).toMatchObject({ groups: [], groupsOverage: true });
    const plain = await validate(await ofTenant(TENANT_A, { groups: ['g1'] }));
    expect(plain.user.groupsOverage).toBeUndefined();
  });
});
