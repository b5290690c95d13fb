import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MsalIdentityProvider } from '../../../src/adapters/msal/MsalIdentityProvider';

/** Discovery against a loopback server whose answer each test chooses. */
let server: Server;
let origin: string;
let answer: (res: ServerResponse) => void;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const provider = () =>
  new MsalIdentityProvider({
    clientId: 'c',
    authority: `${origin}/tenant`,
    credential: { clientSecret: 's' },
    redirectUri: 'http://localhost/cb',
    scopes: ['openid'],
    log: quiet,
    timeoutMs: 300,
  });

describe('MsalIdentityProvider discovery', () => {
  it('when the discovery document never arrives, then token_exchange_failed at AUTH_IDP_TIMEOUT_MS (the provider is down, not misconfigured)', async () => {
    answer = () => undefined;
    await expect(provider().metadata()).rejects.toMatchObject({
      code: 'token_exchange_failed',
      message: expect.stringMatching(/within 300 ms/),
    });
  });

  it('when discovery answers 503, then token_exchange_failed', async () => {
    answer = (res) => res.writeHead(503).end();
    await expect(provider().metadata()).rejects.toMatchObject({ code: 'token_exchange_failed' });
  });

  it('when discovery answers 404, then misconfigured (the authority is probably wrong)', async () => {
    answer = (res) => res.writeHead(404).end();
    await expect(provider().metadata()).rejects.toMatchObject({ code: 'misconfigured' });
  });

  it('when discovery failed once, then the next call tries again', async () => {
    answer = (res) => res.writeHead(503).end();
    const idp = provider();
    await expect(idp.metadata()).rejects.toBeDefined();
    answer = (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          issuer: `${origin}/tenant/v2.0`,
          authorization_endpoint: `${origin}/tenant/oauth2/v2.0/authorize`,
          token_endpoint: `${origin}/tenant/oauth2/v2.0/token`,
          jwks_uri: `${origin}/tenant/discovery/v2.0/keys`,
        }),
      );
    await expect(idp.metadata()).resolves.toMatchObject({ issuer: `${origin}/tenant/v2.0` });
  });
});
