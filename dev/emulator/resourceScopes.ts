/**
 * How Entra reads the scopes of a request: which API (resource) each belongs to, with what
 * audience; client capabilities from the claims parameter.
 * @see https://learn.microsoft.com/entra/identity-platform/scopes-oidc
 */

/** Microsoft Graph's application id: the `aud` of Graph tokens. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** One resource of a token request: its audience and the scopes asked of it. */
export interface ResourceRequest {
  /** `https://graph.microsoft.com` or `api://<client id>`, as consent is recorded. */
  resource: string;
  audience: string;
  /** Scope names without the resource prefix; `.default` stands for all consented ones. */
  scopes: string[];
}

/**
 * Entra's scope grammar: a bare name (`User.Read`) is Microsoft Graph's; `https://graph.microsoft.com/x`
 * too; `api://<client id>/x` (or `<client id>/x`) is the app's own API. One resource per request.
 */
export function resourceRequestsOf(scopes: string[], clientId: string): ResourceRequest[] {
  const byResource = new Map<string, ResourceRequest>();
  for (const scope of scopes) {
    if (OIDC_SCOPES.has(scope)) continue;
    const slash = scope.lastIndexOf('/');
    const prefix = slash < 0 ? GRAPH_RESOURCE : scope.slice(0, slash);
    const name = scope.slice(slash + 1);
    const resource =
      prefix === GRAPH_RESOURCE || prefix === GRAPH_APP_ID
        ? GRAPH_RESOURCE
        : prefix === clientId || prefix === `api://${clientId}`
          ? `api://${clientId}`
          : prefix;
    const audience =
      resource === GRAPH_RESOURCE ? GRAPH_APP_ID : resource === `api://${clientId}` ? clientId : '';
    let request = byResource.get(resource);
    if (!request) byResource.set(resource, (request = { resource, audience, scopes: [] }));
    if (!request.scopes.includes(name)) request.scopes.push(name);
  }
  return [...byResource.values()];
}

export function parseResourceScopes(
  scopes: string[],
  clientId: string,
): { resource?: ResourceRequest } | { problem: { error: string; description: string } } {
  const requests = resourceRequestsOf(scopes, clientId);
  if (requests.length > 1) {
    return {
      problem: {
        error: 'invalid_request',
        description: `AADSTS28000: Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scopes.join(' ')} is not valid.`,
      },
    };
  }
  const [request] = requests;
  if (request && !request.audience) {
    return {
      problem: {
        error: 'invalid_resource',
        description: `AADSTS500011: The resource principal named ${request.resource} was not found in the tenant.`,
      },
    };
  }
  return { resource: request };
}

/** MSAL sends `claims={"access_token":{"xms_cc":{"values":["cp1"]}}}` for client capabilities. */
export function capabilitiesOf(form: URLSearchParams): string[] {
  const claims = form.get('claims');
  if (!claims) return [];
  try {
    const values = (JSON.parse(claims) as { access_token?: { xms_cc?: { values?: unknown } } })
      .access_token?.xms_cc?.values;
    return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}
