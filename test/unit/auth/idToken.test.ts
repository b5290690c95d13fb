import { base64url } from 'jose';
import {
  CLOCK_SKEW_SECONDS,
  validateIdToken,
  type IdTokenExpectations,
} from '../../../src/auth/idToken';
import {
  FAKE_CLIENT_ID,
  FAKE_ISSUER,
  FAKE_TENANT,
  standardClaims,
  testSigningKey,
} from '../../support/fakeIdentityProvider';

const NONCE = 'nonce-abc';
const now = () => Math.floor(Date.now() / 1000);

describe('validateIdToken', () => {
  let key: Awaited<ReturnType<typeof testSigningKey>>;
  let expectations: IdTokenExpectations;

  beforeAll(async () => {
    key = await testSigningKey();
  });
  beforeEach(() => {
    expectations = {
      clientId: FAKE_CLIENT_ID,
      issuer: FAKE_ISSUER,
      allowedTenants: [FAKE_TENANT],
      nonce: NONCE,
      now: new Date(),
      keys: key.keys,
    };
  });

  it('when the token is valid, then it returns the user claims', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE, login_hint: 'hint-1' }));
    const user = await validateIdToken(token, expectations);
    expect(user).toMatchObject({
      oid: 'aaaaaaaa-0000-4000-8000-000000000001',
      tid: FAKE_TENANT,
      name: 'Adele Vance',
      preferred_username: 'adele@contoso.test',
      email: 'adele@contoso.test',
      login_hint: 'hint-1',
      roles: ['Admin'],
      groups: ['g1', 'g2'],
    });
  });

  it('when the signature is from another key, then invalid_id_token', async () => {
    const other = await testSigningKey(key.kid); // same kid, different key
    const token = await other.sign(standardClaims({ nonce: NONCE }));
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when the signature bytes are tampered, then invalid_id_token', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE }));
    const [header, , signature] = token.split('.');
    const forgedPayload = base64url.encode(
      JSON.stringify(standardClaims({ nonce: NONCE, oid: 'someone-else' })),
    );
    await expect(
      validateIdToken(`${header}.${forgedPayload}.${signature}`, expectations),
    ).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when alg is none, then invalid_id_token', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify(standardClaims({ nonce: NONCE })));
    await expect(validateIdToken(`${header}.${payload}.`, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when alg is HS256, then invalid_id_token', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE }));
    const [, payload] = token.split('.');
    const header = base64url.encode(JSON.stringify({ alg: 'HS256', kid: key.kid }));
    await expect(validateIdToken(`${header}.${payload}.c2ln`, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when the kid is unknown, then invalid_id_token', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE }), { kid: 'unknown-kid' });
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when iss is another issuer, then invalid_id_token', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE, iss: 'https://evil.test/v2.0' }));
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when aud is another client, then invalid_id_token', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE, aud: 'other-client' }));
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when the token expired beyond the clock skew, then invalid_id_token', async () => {
    const token = await key.sign(
      standardClaims({
        nonce: NONCE,
        iat: now() - 7200,
        nbf: now() - 7200,
        exp: now() - CLOCK_SKEW_SECONDS - 5,
      }),
    );
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when the token expired within the clock skew, then it is accepted', async () => {
    const token = await key.sign(
      standardClaims({ nonce: NONCE, iat: now() - 3600, exp: now() - 10 }),
    );
    await expect(validateIdToken(token, expectations)).resolves.toMatchObject({ tid: FAKE_TENANT });
  });

  it('when nbf is in the future beyond the skew, then invalid_id_token', async () => {
    const token = await key.sign(
      standardClaims({ nonce: NONCE, nbf: now() + CLOCK_SKEW_SECONDS + 60 }),
    );
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when iat is in the future beyond the skew, then invalid_id_token', async () => {
    const token = await key.sign(
      standardClaims({ nonce: NONCE, iat: now() + CLOCK_SKEW_SECONDS + 60 }),
    );
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when the nonce is another flow’s, then invalid_id_token', async () => {
    const token = await key.sign(standardClaims({ nonce: 'other-nonce' }));
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when the nonce is missing, then invalid_id_token', async () => {
    const token = await key.sign(standardClaims({}));
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  it('when the tenant is not allowed, then tenant_not_allowed', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE }));
    expectations.allowedTenants = ['99999999-0000-4000-8000-000000000000'];
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'tenant_not_allowed',
      status: 403,
    });
  });

  it('when tid is missing, then the tenant is the one the fixed issuer names, and still checked', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE, tid: undefined }));
    await expect(validateIdToken(token, expectations)).resolves.toMatchObject({ tid: FAKE_TENANT });
    expectations.allowedTenants = ['another-tenant'];
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'tenant_not_allowed',
    });
  });

  it('when the provider announces HS256 and none, then they are still refused', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE }));
    const [, payload] = token.split('.');
    const header = base64url.encode(JSON.stringify({ alg: 'HS256', kid: key.kid }));
    expectations.algorithms = ['HS256', 'none'];
    await expect(validateIdToken(`${header}.${payload}.c2ln`, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
    await expect(validateIdToken(token, expectations)).resolves.toMatchObject({ tid: FAKE_TENANT });
  });

  it('when the provider announces only ES256, then an RS256 token is refused', async () => {
    const token = await key.sign(standardClaims({ nonce: NONCE }));
    expectations.algorithms = ['ES256'];
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
  });

  describe('with a multi-tenant {tenantid} issuer', () => {
    const other = 'cccccccc-0000-4000-8000-000000000003';
    beforeEach(() => {
      expectations.issuer = 'https://idp.test/{tenantid}/v2.0';
      expectations.allowedTenants = [FAKE_TENANT, other];
    });

    it('when iss matches the token’s own tid, then it is accepted', async () => {
      const token = await key.sign(
        standardClaims({ nonce: NONCE, tid: other, iss: `https://idp.test/${other}/v2.0` }),
      );
      await expect(validateIdToken(token, expectations)).resolves.toMatchObject({ tid: other });
    });

    it('when tid is missing, then invalid_id_token', async () => {
      const token = await key.sign(standardClaims({ nonce: NONCE, tid: undefined }));
      await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
        code: 'invalid_id_token',
      });
    });

    it('when iss names another tenant than tid, then invalid_id_token', async () => {
      const token = await key.sign(standardClaims({ nonce: NONCE, tid: other, iss: FAKE_ISSUER }));
      await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
        code: 'invalid_id_token',
      });
    });
  });

  describe('without AUTH_ALLOWED_TENANTS', () => {
    beforeEach(() => {
      expectations.allowedTenants = [];
    });

    it('when the authority was configured by domain, then the GUID tenant its issuer names is allowed', async () => {
      const token = await key.sign(standardClaims({ nonce: NONCE }));
      await expect(validateIdToken(token, expectations)).resolves.toMatchObject({
        tid: FAKE_TENANT,
      });
    });

    it('when the token comes from another tenant, then tenant_not_allowed', async () => {
      const other = 'dddddddd-0000-4000-8000-000000000004';
      expectations.issuer = 'https://idp.test/{tenantid}/v2.0';
      const token = await key.sign(
        standardClaims({ nonce: NONCE, tid: other, iss: `https://idp.test/${other}/v2.0` }),
      );
      await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
        code: 'tenant_not_allowed',
      });
    });
  });

  it('when aud has several values, then azp must be this client', async () => {
    const token = await key.sign(
      standardClaims({ nonce: NONCE, aud: [FAKE_CLIENT_ID, 'other'], azp: 'other' }),
    );
    await expect(validateIdToken(token, expectations)).rejects.toMatchObject({
      code: 'invalid_id_token',
    });
    const good = await key.sign(
      standardClaims({ nonce: NONCE, aud: [FAKE_CLIENT_ID, 'other'], azp: FAKE_CLIENT_ID }),
    );
    await expect(validateIdToken(good, expectations)).resolves.toMatchObject({ tid: FAKE_TENANT });
  });
  describe('group overage', () => {
    it("when the token carries Entra's overage marker instead of groups, then the user is marked groupsOverage", async () => {
      const token = await key.sign(
        standardClaims({
          nonce: NONCE,
          groups: undefined,
          _claim_names: { groups: 'src1' },
          _claim_sources: {
            src1: { endpoint: `https://graph.windows.net/${FAKE_TENANT}/users/x/getMemberObjects` },
          },
        }),
      );
      const user = await validateIdToken(token, expectations);
      expect(user.groups).toEqual([]);
      expect(user.groupsOverage).toBe(true);
    });

    it('when the implicit-flow marker hasgroups is true, then groupsOverage too', async () => {
      const token = await key.sign(
        standardClaims({ nonce: NONCE, groups: undefined, hasgroups: true }),
      );
      expect((await validateIdToken(token, expectations)).groupsOverage).toBe(true);
    });

    it('when the groups claim is present, then no overage marker', async () => {
      const token = await key.sign(standardClaims({ nonce: NONCE }));
      expect((await validateIdToken(token, expectations)).groupsOverage).toBeUndefined();
    });
  });
});
