import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphGroupDirectory } from '../../../src/adapters/graph/GraphGroupDirectory';
import { MAX_STORED_GROUPS } from '../../../src/adapters/tables/TableSessionGroupsStore';
import { MAX_GROUP_PAGES } from '../../../src/auth/groupMembership';
import type { GroupLookupBounds } from '../../../src/ports/GroupDirectory';

/** The Graph group lookup against a small local server playing Graph (real HTTP). */

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;
let handler: Handler;
let server: http.Server;
let base: URL;
const requests: { path: string; authorization?: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    requests.push({ path: url.pathname + url.search, authorization: req.headers.authorization });
    handler(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
beforeEach(() => {
  requests.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const bounds: GroupLookupBounds = { pageTimeoutMs: 2000, overallTimeoutMs: 5000, maxPages: 5 };
const json = (res: ServerResponse, status: number, body: unknown, headers = {}) =>
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body));
const ids = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    '@odata.type': '#microsoft.graph.group',
    id: `g${from + i}`,
  }));

describe('GraphGroupDirectory', () => {
  it('when Graph answers in pages, then it follows @odata.nextLink and returns every id, with the token on each page', async () => {
    handler = (_req, res, url) => {
      const page = Number(url.searchParams.get('page') ?? 0);
      const next = new URL(url.href);
      next.searchParams.set('page', String(page + 1));
      json(res, 200, {
        value: ids(page * 2, 2),
        ...(page < 2 ? { '@odata.nextLink': next.href } : {}),
      });
    };
    const groups = await new GraphGroupDirectory(base).memberGroupIds('tok', bounds);
    expect(groups).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5']);
    expect(requests).toHaveLength(3);
    expect(requests[0]?.path).toBe(
      '/v1.0/me/transitiveMemberOf/microsoft.graph.group?%24select=id&%24top=999',
    );
    expect(requests.every((r) => r.authorization === 'Bearer tok')).toBe(true);
  });

  it('when the pages go on past the bound, then groups_unavailable (502), not a list cut short', async () => {
    handler = (_req, res, url) => json(res, 200, { value: ids(0, 1), '@odata.nextLink': url.href });
    await expect(new GraphGroupDirectory(base).memberGroupIds('tok', bounds)).rejects.toMatchObject(
      {
        code: 'groups_unavailable',
        status: 502,
        message: expect.stringContaining('more groups than 5 pages'),
      },
    );
    expect(requests).toHaveLength(5);
  });

  it('when a next link points at another origin, then the token is not sent there', async () => {
    handler = (_req, res) =>
      json(res, 200, { value: ids(0, 1), '@odata.nextLink': 'https://evil.example/v1.0/x' });
    await expect(new GraphGroupDirectory(base).memberGroupIds('tok', bounds)).rejects.toMatchObject(
      {
        code: 'groups_unavailable',
        message: expect.stringContaining('another origin'),
      },
    );
    expect(requests).toHaveLength(1);
  });

  it('when Graph answers with a redirect, then it is not followed: groups_unavailable, one request', async () => {
    // localhost vs 127.0.0.1: the same server, another origin.
    handler = (_req, res) =>
      res.writeHead(307, { location: `http://localhost:${base.port}/v1.0/elsewhere` }).end();
    await expect(new GraphGroupDirectory(base).memberGroupIds('tok', bounds)).rejects.toMatchObject(
      { code: 'groups_unavailable', status: 502 },
    );
    expect(requests).toEqual([expect.objectContaining({ authorization: 'Bearer tok' })]);
  });

  it('when Graph throttles (429) or fails (5xx), then groups_unavailable 503 with its Retry-After (or a default)', async () => {
    handler = (_req, res) =>
      json(res, 429, { error: { code: 'TooManyRequests' } }, { 'retry-after': '12' });
    await expect(new GraphGroupDirectory(base).memberGroupIds('tok', bounds)).rejects.toMatchObject(
      {
        code: 'groups_unavailable',
        status: 503,
        retryAfterSeconds: 12,
        message: expect.stringContaining('429 TooManyRequests'),
      },
    );
    handler = (_req, res) => json(res, 500, {});
    await expect(new GraphGroupDirectory(base).memberGroupIds('tok', bounds)).rejects.toMatchObject(
      {
        status: 503,
        retryAfterSeconds: 10,
      },
    );
  });

  it('when Graph refuses (403), then groups_unavailable 502 naming the permission, no Retry-After', async () => {
    handler = (_req, res) => json(res, 403, { error: { code: 'Authorization_RequestDenied' } });
    const failure = new GraphGroupDirectory(base).memberGroupIds('tok', bounds);
    await expect(failure).rejects.toMatchObject({
      code: 'groups_unavailable',
      status: 502,
      retryAfterSeconds: undefined,
      details: expect.stringContaining('delegated permission User.Read of Microsoft Graph'),
    });
  });

  it('when a page does not come, then groups_unavailable after the page timeout', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    await expect(
      new GraphGroupDirectory(base).memberGroupIds('tok', { ...bounds, pageTimeoutMs: 300 }),
    ).rejects.toMatchObject({
      code: 'groups_unavailable',
      status: 503,
      message: expect.stringContaining('did not answer within 300 ms'),
    });
    expect(Date.now() - started).toBeLessThan(300 + 5000);
  });

  it('when the bounded pages are all full, then a session groups row still holds them', () => {
    expect(MAX_GROUP_PAGES * 999).toBeLessThanOrEqual(MAX_STORED_GROUPS);
  });
});
