import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from '@azure/functions';
import {
  claimsChallengeOf,
  escapeHtml,
  getAccessToken,
  graphBaseUrl,
  HTML_PAGE,
  NO_STORE,
  page,
  prefersJson,
  requireUser,
} from 'entra-functions-signin';
import { PROFILE_SCOPES } from '../permissions';
import { exampleRoutes } from '../routes';

const GRAPH_TIMEOUT_MS = 10_000;

interface GraphProfile {
  id?: string;
  displayName?: string;
  mail?: string | null;
  userPrincipalName?: string;
}

/**
 * GET /api/profile: an example of calling an API as the user. requireUser hands over a token
 * for Graph's User.Read (consent first if needed); a claims challenge from Graph (CAE) gets one
 * more try with a token carrying those claims, else a new sign-in.
 */
export const profile = requireUser(
  { accessToken: { scopes: PROFILE_SCOPES } },
  async (request, context, { accessToken }) => {
    let graph = await callGraphMe(accessToken?.token ?? '');
    const claims =
      graph.status === 401 ? claimsChallengeOf(graph.headers.get('www-authenticate')) : undefined;
    if (claims) {
      context.log('profile: Graph sent a claims challenge: refreshing with its claims');
      const fresh = await getAccessToken(request, context, { scopes: PROFILE_SCOPES, claims });
      graph = await callGraphMe(fresh.token);
    }
    if (!graph.ok) return graphFailed(request, context, graph.status);
    return profileResponse(request, (await graph.json()) as GraphProfile);
  },
);

function callGraphMe(token: string): Promise<Response> {
  return fetch(new URL('/v1.0/me', graphBaseUrl()), {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    signal: AbortSignal.timeout(GRAPH_TIMEOUT_MS),
  });
}

function graphFailed(
  request: HttpRequest,
  context: InvocationContext,
  status: number,
): HttpResponseInit {
  context.warn(`profile: Microsoft Graph answered ${status}`);
  const message = `Microsoft Graph answered ${status} to GET /v1.0/me.`;
  if (prefersJson(request)) {
    return { status: 502, headers: { ...NO_STORE }, jsonBody: { error: 'graph_failed', message } };
  }
  return {
    status: 502,
    headers: { ...HTML_PAGE },
    body: page(
      'Profile unavailable',
      `<div class="card"><h1>Profile unavailable</h1><p>${escapeHtml(message)}</p></div>`,
    ),
  };
}

function profileResponse(request: HttpRequest, me: GraphProfile): HttpResponseInit {
  // Only what Graph said about the user: the token itself never leaves the server.
  const profile = {
    id: me.id,
    displayName: me.displayName,
    mail: me.mail ?? undefined,
    userPrincipalName: me.userPrincipalName,
  };
  if (prefersJson(request)) return { status: 200, headers: { ...NO_STORE }, jsonBody: profile };
  const rows = Object.entries(profile)
    .filter(([, value]) => value)
    .map(
      ([key, value]) =>
        `<dt>${escapeHtml(key)}</dt><dd data-field="${escapeHtml(key)}">${escapeHtml(String(value))}</dd>`,
    )
    .join('');
  return {
    status: 200,
    headers: { ...HTML_PAGE },
    body: page(
      'Your profile from Microsoft Graph',
      `<div class="card"><h1 id="profile-title">Your profile from Microsoft Graph</h1>
<p>This function called <code>GET /v1.0/me</code> with your access token, which stays on the server.</p>
<dl id="profile">${rows}</dl></div>`,
    ),
  };
}

app.http('profile', {
  route: exampleRoutes.profile,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: profile,
});
