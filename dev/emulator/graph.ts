import type { IncomingMessage, ServerResponse } from 'node:http';
import { GRAPH_APP_ID, type ApiTokens } from './apiTokens';

/**
 * A Microsoft Graph look-alike for the calls the app makes with a user's token: `GET
 * /v1.0/me`, `GET /v1.0/me/memberOf` and `GET /v1.0/me/transitiveMemberOf/microsoft.graph.group`
 * (the groups on overage; both paged with `$top` and `@odata.nextLink`). It checks the
 * bearer token as Graph does (signature, audience, lifetime, delegated scope) and answers with
 * Graph's error shapes; a user whose sessions were revoked gets CAE's claims challenge on tokens
 * from CAE-capable clients.
 * @see https://learn.microsoft.com/graph/api/user-get
 * @see https://learn.microsoft.com/graph/api/user-list-memberof
 * @see https://learn.microsoft.com/graph/api/user-list-transitivememberof
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge
 */

export interface GraphUser {
  oid: string;
  name: string;
  preferred_username: string;
  email: string;
  groups: string[];
}

const READ_SELF = ['User.Read', 'User.ReadWrite', 'User.Read.All', 'Directory.Read.All'];
const READ_MEMBERSHIP = ['User.Read', 'GroupMember.Read.All', 'Directory.Read.All'];
const TRANSITIVE_GROUPS = '/v1.0/me/transitiveMemberOf/microsoft.graph.group';

/** Faults for tests, set through /_emulator/graph: every Graph call fails this way. */
export type GraphOutage = 'none' | 'unavailable' | 'hang' | 'forbidden';
export const GRAPH_OUTAGES: readonly GraphOutage[] = ['none', 'unavailable', 'hang', 'forbidden'];
export interface GraphSwitches {
  outage: GraphOutage;
  /** Graph calls answered so far, by path (outages included). */
  calls: Record<string, number>;
}
const DEFAULT_PAGE = 100;
const MAX_PAGE = 999;

export async function handleGraph(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  deps: { tokens: ApiTokens; users: ReadonlyMap<string, GraphUser>; switches: GraphSwitches },
): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '');
  deps.switches.calls[path] = (deps.switches.calls[path] ?? 0) + 1;
  if (deps.switches.outage === 'hang') return; // never answers: the caller's timeout must act
  if (deps.switches.outage === 'unavailable') {
    return graphError(res, 503, 'serviceNotAvailable', 'Service unavailable.', {
      'retry-after': '7',
    });
  }
  const wanted =
    path === '/v1.0/me'
      ? READ_SELF
      : path === '/v1.0/me/memberOf' || path === TRANSITIVE_GROUPS
        ? READ_MEMBERSHIP
        : [];
  if (wanted.length === 0) return graphError(res, 404, 'Request_ResourceNotFound', 'Unknown path.');
  if (req.method !== 'GET') return graphError(res, 405, 'Request_BadRequest', 'Only GET.');

  const bearer = /^Bearer ([A-Za-z0-9._-]+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!bearer) {
    return graphError(res, 401, 'InvalidAuthenticationToken', 'Access token is empty.');
  }
  let claims;
  try {
    claims = await deps.tokens.verify(bearer, GRAPH_APP_ID);
  } catch (error) {
    const expired = (error as { code?: string }).code === 'ERR_JWT_EXPIRED';
    return graphError(
      res,
      401,
      'InvalidAuthenticationToken',
      expired
        ? 'Lifetime validation failed, the token is expired.'
        : 'Access token validation failure.',
    );
  }
  const oid = typeof claims.oid === 'string' ? claims.oid : '';
  const user = deps.users.get(oid);
  if (!user) return graphError(res, 404, 'Request_ResourceNotFound', `User ${oid} not found.`);

  // CAE: a capable client's token outlives a revocation only until the resource notices.
  const revokedAt = deps.tokens.revokedAtOf(oid);
  const capable = Array.isArray(claims.xms_cc) && claims.xms_cc.includes('cp1');
  if (capable && revokedAt !== undefined && deps.tokens.issuedBeforeRevocation(claims)) {
    const challenge = Buffer.from(
      JSON.stringify({
        access_token: { nbf: { essential: true, value: String(Math.ceil(revokedAt / 1000)) } },
      }),
    ).toString('base64');
    return graphError(
      res,
      401,
      'InvalidAuthenticationToken',
      'Continuous access evaluation resulted in challenge.',
      {
        'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}", error="insufficient_claims", claims="${challenge}"`,
      },
    );
  }
  const scopes = typeof claims.scp === 'string' ? claims.scp.toLowerCase().split(' ') : [];
  if (
    deps.switches.outage === 'forbidden' ||
    !wanted.some((s) => scopes.includes(s.toLowerCase()))
  ) {
    return graphError(
      res,
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  }

  if (path === '/v1.0/me') {
    const [givenName, ...rest] = user.name.split(' ');
    return sendJson(res, 200, {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
      businessPhones: [],
      displayName: user.name,
      givenName: givenName ?? null,
      jobTitle: null,
      mail: user.email,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
      surname: rest.join(' ') || null,
      userPrincipalName: user.preferred_username,
      id: user.oid,
    });
  }

  const top = Math.min(Number(url.searchParams.get('$top')) || DEFAULT_PAGE, MAX_PAGE);
  const skip = Number(url.searchParams.get('$skiptoken')) || 0;
  const page = user.groups.slice(skip, skip + top);
  const next = skip + top < user.groups.length ? new URL(url.href) : undefined;
  next?.searchParams.set('$top', String(top));
  next?.searchParams.set('$skiptoken', String(skip + top));
  return sendJson(res, 200, {
    '@odata.context':
      path === TRANSITIVE_GROUPS
        ? 'https://graph.microsoft.com/v1.0/$metadata#groups(id)'
        : 'https://graph.microsoft.com/v1.0/$metadata#directoryObjects',
    ...(next ? { '@odata.nextLink': next.href } : {}),
    value: page.map((id) =>
      // transitiveMemberOf with $select=id, as the app asks: only the id (and the type).
      path === TRANSITIVE_GROUPS && url.searchParams.get('$select') === 'id'
        ? { '@odata.type': '#microsoft.graph.group', id }
        : {
            '@odata.type': '#microsoft.graph.group',
            id,
            displayName: `Group ${id.slice(0, 8)}`,
            securityEnabled: true,
          },
    ),
  });
}

function graphError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const wwwAuthenticate: Record<string, string> =
    status === 401 && !headers['www-authenticate']
      ? {
          'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
        }
      : {};
  sendJson(
    res,
    status,
    { error: { code, message, innerError: { date: new Date().toISOString() } } },
    { ...wwwAuthenticate, ...headers },
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    })
    .end(JSON.stringify(body));
}
