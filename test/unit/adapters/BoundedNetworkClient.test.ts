import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  boundedClientAssertion,
  BoundedNetworkClient,
  parseRetryAfter,
  UpstreamFailure,
} from '../../../src/adapters/msal/BoundedNetworkClient';
import { RetryAfterHolds } from '../../../src/adapters/msal/RetryAfterHolds';

/** A token endpoint on loopback whose next answer each test chooses. */
let server: Server;
let url: string;
let answer: (res: import('node:http').ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t/oauth2/v2.0/token?client-request-id=x`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = new BoundedNetworkClient(300);
const post = () => client.sendPostRequestAsync(url, { body: 'grant_type=x' });
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('BoundedNetworkClient', () => {
  it('when the endpoint answers JSON, then msal-node gets status, headers and body (OAuth errors included)', async () => {
    answer = (res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    await expect(post()).resolves.toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it.each([
    [429, { 'retry-after': '7' }, 7],
    [503, { 'retry-after': '120' }, 120],
    [500, {}, undefined],
    [400, { 'retry-after': '5' }, 5],
  ])(
    'when the endpoint answers %s %j, then an UpstreamFailure msal-node cannot throttle on',
    async (status, headers, retryAfterSeconds) => {
      answer = (res) =>
        res.writeHead(status, { 'content-type': 'text/html', ...headers }).end('<p>');
      const failure = await failureOf(post());
      expect(failure).toBeInstanceOf(UpstreamFailure);
      expect(failure).toMatchObject({ kind: 'status', status, retryAfterSeconds });
      expect((failure as Error).message).not.toContain('client-request-id');
    },
  );

  it('when the endpoint answers 200 with a body that is not JSON, then an UpstreamFailure', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    expect(await failureOf(post())).toMatchObject({ kind: 'malformed', status: 200 });
  });

  it('when the endpoint never answers, then an UpstreamFailure at the timeout', async () => {
    answer = () => undefined;
    const failure = await failureOf(post());
    expect(failure).toMatchObject({ kind: 'timeout' });
    expect((failure as Error).message).toMatch(/did not answer within 300 ms/);
  });

  it('when the endpoint stops halfway through its body, then an UpstreamFailure at the timeout', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"access_token":');
    };
    expect(await failureOf(post())).toMatchObject({ kind: 'timeout' });
  });

  it('when the endpoint cannot be reached, then an UpstreamFailure naming the endpoint', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const failure = await failureOf(
      client.sendPostRequestAsync(`http://127.0.0.1:${port}/t/oauth2/v2.0/token`, { body: 'x' }),
    );
    expect(failure).toMatchObject({ kind: 'network' });
    expect((failure as Error).message).toMatch(
      /the token endpoint .* could not be reached: .*ECONNREFUSED/,
    );
  });

  it('when the endpoint answers, then its headers reach msal-node by lower-case name', async () => {
    answer = (res) =>
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Ms-Request-Id': 'r1' }).end('{}');
    await expect(post()).resolves.toMatchObject({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-ms-request-id': 'r1' },
    });
  });
});

describe('boundedClientAssertion', () => {
  const config = { clientId: 'c', tokenEndpoint: 'https://idp.test/token' };

  it('when the assertion arrives in time, then it is used', async () => {
    await expect(boundedClientAssertion(async () => 'jwt', 100)(config)).resolves.toBe('jwt');
  });

  it('when the managed identity never answers, then an UpstreamFailure at the timeout', async () => {
    const never = boundedClientAssertion(() => new Promise<string>(() => undefined), 50);
    expect(await failureOf(never(config))).toMatchObject({ kind: 'timeout' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, caps at an hour, ignores what it cannot read', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('999999', now)).toBe(3600);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('RetryAfterHolds', () => {
  it('when one cause is held, then only that cause waits, until its time is up', () => {
    const holds = new RetryAfterHolds();
    holds.hold('state-a', 30, 0);
    expect(holds.remainingSeconds('state-a', 1000)).toBe(29);
    expect(holds.remainingSeconds('state-b', 1000)).toBeUndefined();
    expect(holds.remainingSeconds('state-a', 30_000)).toBeUndefined();
  });

  it('when full, then the oldest holds go first', () => {
    const holds = new RetryAfterHolds(3);
    for (const cause of ['a', 'b', 'c', 'd']) holds.hold(cause, 60, 0);
    expect(holds.size).toBe(3);
    expect(holds.remainingSeconds('a', 0)).toBeUndefined();
    expect(holds.remainingSeconds('d', 0)).toBe(60);
  });
});
