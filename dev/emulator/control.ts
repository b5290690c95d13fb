import { readLimitedText } from './requestBody';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiTokens } from './apiTokens';
import { GRAPH_OUTAGES, sendJson, type GraphOutage, type GraphSwitches } from './graph';

/**
 * The emulator's own switches, for tests, the bench and a developer's curl (never Entra's):
 *
 * | request                                        | does                                             |
 * |------------------------------------------------|--------------------------------------------------|
 * | `GET /_emulator/token-requests`                | token endpoint calls so far, by grant type       |
 * | `POST /_emulator/token-requests/reset`         | counts back to zero                              |
 * | `POST /_emulator/users/<username or oid>/revoke` | the user's refresh tokens stop working (AADSTS50173), CAE challenges their tokens at Graph |
 * | `GET` / `POST /_emulator/settings`             | read / set `{ "accessTokenSeconds": n }`         |
 * | `GET` / `POST /_emulator/graph`               | read / set `{ "outage": "none" \| "unavailable" \| "hang" \| "forbidden" }` (503, no answer, 403 at every Graph call); `calls` counts Graph calls by path |
 * | `POST /_emulator/tokens/mint`                  | `{ claims, lifetimeSeconds, issuer? }`: a token signed with the emulator's key (expired, ID-token shaped, another tenant's) |
 */

export const CONTROL_PREFIX = '/_emulator/';
const MAX_BODY_BYTES = 4096;

export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: {
    tokens: ApiTokens;
    graph: GraphSwitches;
    findUser(idOrName: string): { oid: string } | undefined;
  },
): Promise<void> {
  const path = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, '');
  const { tokens } = deps;
  if (path === 'graph' && (req.method === 'GET' || req.method === 'POST')) {
    if (req.method === 'POST') {
      try {
        const body = JSON.parse(await readBody(req)) as { outage?: unknown };
        const outage = body.outage ?? 'none';
        if (!GRAPH_OUTAGES.includes(outage as GraphOutage)) {
          return sendJson(res, 400, { error: `outage must be one of ${GRAPH_OUTAGES.join(', ')}` });
        }
        deps.graph.outage = outage as GraphOutage;
      } catch (error) {
        return sendJson(res, 400, { error: (error as Error).message });
      }
    }
    return sendJson(res, 200, deps.graph);
  }
  if (path === 'token-requests' && req.method === 'GET') {
    return sendJson(res, 200, tokens.tokenCounts());
  }
  if (path === 'token-requests/reset' && req.method === 'POST') {
    tokens.resetCounts();
    return sendJson(res, 200, tokens.tokenCounts());
  }
  const revoke = /^users\/([^/]+)\/revoke$/.exec(path);
  if (revoke && req.method === 'POST') {
    const user = deps.findUser(decodeURIComponent(revoke[1] as string));
    if (!user) return sendJson(res, 404, { error: 'unknown user' });
    return sendJson(res, 200, {
      oid: user.oid,
      refreshTokensRevoked: tokens.revokeRefreshTokens(user.oid),
    });
  }
  if (path === 'settings' && req.method === 'GET') {
    return sendJson(res, 200, { accessTokenSeconds: tokens.accessTokenSeconds });
  }
  if (path === 'settings' && req.method === 'POST') {
    try {
      const body = JSON.parse(await readBody(req)) as { accessTokenSeconds?: unknown };
      if (body.accessTokenSeconds !== undefined) {
        tokens.accessTokenSeconds = Number(body.accessTokenSeconds);
      }
    } catch (error) {
      return sendJson(res, 400, { error: (error as Error).message });
    }
    return sendJson(res, 200, { accessTokenSeconds: tokens.accessTokenSeconds });
  }
  if (path === 'tokens/mint' && req.method === 'POST') {
    try {
      const body = JSON.parse(await readBody(req)) as {
        claims?: Record<string, unknown>;
        lifetimeSeconds?: unknown;
        issuer?: unknown;
      };
      const issuer = typeof body.issuer === 'string' ? body.issuer : undefined;
      const token = await tokens.mint(
        body.claims ?? {},
        Number(body.lifetimeSeconds ?? 600),
        issuer,
      );
      return sendJson(res, 200, { token });
    } catch (error) {
      return sendJson(res, 400, { error: (error as Error).message });
    }
  }
  sendJson(res, 404, { error: `unknown emulator control ${req.method} ${url.pathname}` });
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readLimitedText(req, MAX_BODY_BYTES, 'body too large')) || '{}';
}
