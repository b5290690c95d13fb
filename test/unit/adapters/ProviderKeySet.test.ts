import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { ProviderKeySet } from '../../../src/adapters/msal/ProviderKeySet';
import { AuthError } from '../../../src/auth/errors';

const JWKS_URI = 'https://idp.test/keys';

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const sign = (headerKid = kid) =>
    new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256', kid: headerKid }).sign(privateKey);
  return { jwk, sign };
}

/** A JWKS endpoint whose answer the test changes, counting its fetches. */
function fakeEndpoint() {
  const endpoint = {
    answer: () => new Response('{"keys":[]}', { status: 200 }),
    fetches: 0,
    fetch: (async () => {
      endpoint.fetches += 1;
      return endpoint.answer();
    }) as unknown as typeof fetch,
    serve(keys: JWK[]) {
      endpoint.answer = () => Response.json({ keys });
    },
  };
  return endpoint;
}

describe('ProviderKeySet', () => {
  let clock: number;
  let endpoint: ReturnType<typeof fakeEndpoint>;
  let keySet: ProviderKeySet;
  const verify = async (token: string) => jwtVerify(token, keySet.getKey);

  beforeEach(() => {
    clock = 1_000_000;
    endpoint = fakeEndpoint();
    keySet = new ProviderKeySet({
      jwksUri: async () => JWKS_URI,
      timeoutMs: 1000,
      fetch: endpoint.fetch,
      now: () => clock,
    });
  });

  it('when the keys are known, then one fetch serves many tokens', async () => {
    const a = await signingKey('a');
    endpoint.serve([a.jwk]);
    await verify(await a.sign());
    await verify(await a.sign());
    expect(endpoint.fetches).toBe(1);
  });

  it('when a key is rotated in right after a fetch, then its unknown kid triggers one refetch', async () => {
    const [old, rotated] = [await signingKey('old'), await signingKey('new')];
    endpoint.serve([old.jwk]);
    await verify(await old.sign());
    clock += 1000; // well inside a 30 s cooldown
    endpoint.serve([old.jwk, rotated.jwk]);
    await expect(verify(await rotated.sign())).resolves.toBeDefined();
    expect(endpoint.fetches).toBe(2);
  });

  it('when a flood of unknown kids arrives, then at most one refetch per cooldown', async () => {
    const known = await signingKey('known');
    endpoint.serve([known.jwk]);
    await verify(await known.sign());
    const stranger = await signingKey('stranger');
    for (let i = 0; i < 20; i++) {
      await expect(verify(await stranger.sign(`stranger-${i}`))).rejects.toMatchObject({
        code: 'ERR_JWKS_NO_MATCHING_KEY',
      });
    }
    expect(endpoint.fetches).toBe(2);
    clock += 30_000;
    await expect(verify(await stranger.sign('late'))).rejects.toBeDefined();
    expect(endpoint.fetches).toBe(3);
  });

  it.each([
    ['an error status', () => new Response('<h1>down</h1>', { status: 500 })],
    ['a body that is not JSON', () => new Response('garbage{', { status: 200 })],
    ['an empty key set', () => Response.json({ keys: [] })],
    ['no key set', () => Response.json({ hello: 'world' })],
  ])(
    'when the endpoint answers %s, then token_exchange_failed and nothing is cached',
    async (_what, answer) => {
      const key = await signingKey('k');
      endpoint.answer = answer;
      const failure = await verify(await key.sign()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(AuthError);
      expect(failure).toMatchObject({ code: 'token_exchange_failed' });
      endpoint.serve([key.jwk]);
      await expect(verify(await key.sign())).resolves.toBeDefined();
      expect(endpoint.fetches).toBe(2);
    },
  );

  it('when the endpoint never answers, then token_exchange_failed at the timeout', async () => {
    endpoint.fetch = ((_url: string, init: RequestInit) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      )) as unknown as typeof fetch;
    keySet = new ProviderKeySet({
      jwksUri: async () => JWKS_URI,
      timeoutMs: 50,
      fetch: endpoint.fetch,
    });
    const key = await signingKey('k');
    await expect(verify(await key.sign())).rejects.toMatchObject({
      code: 'token_exchange_failed',
      message: expect.stringMatching(/did not answer within 50 ms/),
    });
  });

  it('when a refresh past the maximum age fails, then the last good set stays in use', async () => {
    const key = await signingKey('k');
    endpoint.serve([key.jwk]);
    await verify(await key.sign());
    clock += 11 * 60 * 1000;
    endpoint.answer = () => new Response('', { status: 503 });
    await expect(verify(await key.sign())).resolves.toBeDefined();
    expect(endpoint.fetches).toBe(2);
  });

  it('when many tokens need the keys at once, then they share one fetch', async () => {
    const key = await signingKey('k');
    endpoint.serve([key.jwk]);
    const token = await key.sign();
    await Promise.all(Array.from({ length: 10 }, () => verify(token)));
    expect(endpoint.fetches).toBe(1);
  });
});
