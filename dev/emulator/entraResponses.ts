import type { IncomingMessage } from 'node:http';
import type { CookieOptions, KoaContext, Middleware, Provider } from 'oidc-provider';
import type { JWK } from 'jose';
import type { ApiTokens, TokenRequestInfo } from './apiTokens';
import { isMultiTenantMount, issuerOfTenant, withIssuer } from './tenants';
import { clientInfoFor, tenantOf, type TestUser } from './users';

/**
 * Reshapes oidc-provider's answers where Entra differs: the discovery document, the keys'
 * `issuer`, `client_info` in token responses, no `iss` in authorization responses, and
 * sign-out without a confirmation page.
 */
export function entraLikeResponses(context: {
  provider: Provider;
  tenantId: string;
  issuer: string;
  sessionCookie: CookieOptions;
  browserOrigin?: string;
  apiTokens: ApiTokens;
  tokenRequests: WeakMap<IncomingMessage, TokenRequestInfo>;
  usersByOid: ReadonlyMap<string, TestUser>;
  signingKey: JWK;
}): Middleware {
  const { provider, tenantId, issuer, sessionCookie, browserOrigin, apiTokens, tokenRequests } =
    context;
  const issuerTemplate = issuerOfTenant(issuer, tenantId, '{tenantid}');
  return async (ctx, next) => {
    const requestedScope = typeof ctx.query?.scope === 'string' ? ctx.query.scope : undefined;
    await next();
    const route = ctx.oidc?.route;
    const body = isRecord(ctx.body) ? ctx.body : undefined;

    const multiTenant = isMultiTenantMount((ctx.req as { originalUrl?: string }).originalUrl);
    const announcedIssuer = multiTenant ? issuerTemplate : issuer;

    if (route === 'discovery' && ctx.status === 200 && body) {
      ctx.body = { ...entraDiscovery(body, browserOrigin), issuer: announcedIssuer };
    } else if (route === 'jwks' && ctx.status === 200 && body && Array.isArray(body.keys)) {
      ctx.body = { keys: body.keys.map((key: object) => ({ ...key, issuer: announcedIssuer })) };
    } else if (route === 'token' && ctx.status === 200 && body) {
      const account = ctx.oidc?.entities.Account;
      const user = account && context.usersByOid.get(account.accountId);
      const userTenant = user ? tenantOf(user, tenantId) : tenantId;
      if (user && userTenant !== tenantId) {
        if (!multiTenant) {
          // Entra refuses a user of another tenant at a tenant's own authority (no guest here).
          ctx.status = 400;
          ctx.body = {
            error: 'invalid_grant',
            error_description: `AADSTS50020: User account '${user.preferred_username}' from identity provider 'https://sts.windows.net/${userTenant}/' does not exist in tenant '${tenantId}' and cannot access the application.`,
          };
          return;
        }
        if (typeof body.id_token === 'string') {
          const ownIssuer = issuerOfTenant(issuer, tenantId, userTenant);
          body.id_token = await withIssuer(body.id_token, ownIssuer, context.signingKey);
        }
      }
      if (account) body.client_info = clientInfoFor(account.accountId, userTenant);
      body.ext_expires_in = body.expires_in;
      await apiTokens.finishTokenResponse(ctx, tokenRequests.get(ctx.req));
    } else if ((route === 'authorization' || route === 'resume') && isRedirect(ctx.status)) {
      // Entra does not send RFC 9207's iss in authorization responses (and does not advertise it).
      const location = new URL(ctx.response.get('location'), issuer);
      apiTokens.afterAuthorization(ctx, location, requestedScope);
      if (location.searchParams.get('iss') === issuer) {
        location.searchParams.delete('iss');
        ctx.set('Location', location.href);
      }
    } else if (route === 'end_session' && ctx.status === 200) {
      await endSessionNow(ctx, provider, sessionCookie);
    } else if (route === 'resume' && ctx.status === 200 && ctx.oidc?.session?.state?.secret) {
      // Another account was picked (select_account, login): oidc-provider answers with a page
      // that posts a logout of the current one and comes back here. Entra just switches, so
      // end the old session now and redirect straight back to this resume URL.
      await endSessionNow(ctx, provider, sessionCookie);
    }
  };
}

/**
 * Entra signs out on GET (with logout_hint, without an account picker) and redirects to the
 * registered post_logout_redirect_uri. oidc-provider would render a confirmation form; its
 * checks (client_id, id_token_hint, registered URI) have run by now, so finish the job here.
 * @see https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#send-a-sign-out-request
 */
async function endSessionNow(
  ctx: KoaContext,
  provider: Provider,
  sessionCookie: CookieOptions,
): Promise<void> {
  const oidc = ctx.oidc;
  const session = oidc?.session;
  if (!oidc || !session) return;
  const { postLogoutRedirectUri, state } = session.state ?? {};
  await session.destroy();
  // overwrite: replaces the Set-Cookie oidc-provider just wrote for the (now gone) session.
  ctx.cookies.set(provider.cookieName('session'), null, { ...sessionCookie, overwrite: true });

  let target = oidc.urlFor('end_session_success');
  if (postLogoutRedirectUri) {
    const url = new URL(postLogoutRedirectUri);
    if (state !== undefined) url.searchParams.set('state', String(state));
    target = url.href;
  }
  ctx.status = 303;
  ctx.redirect(target);
}

/**
 * The discovery document with Entra's members (values from oidc-provider, which serves them).
 * With a front door, the two endpoints a browser visits (authorize, logout) are on it; the
 * issuer and the server-to-server endpoints (token, keys) stay on https.
 */
function entraDiscovery(
  body: Record<string, unknown>,
  browserOrigin: string | undefined,
): Record<string, unknown> {
  const forBrowser = (endpoint: unknown) =>
    browserOrigin && typeof endpoint === 'string'
      ? `${browserOrigin}${new URL(endpoint).pathname}`
      : endpoint;
  return {
    token_endpoint: body.token_endpoint,
    token_endpoint_auth_methods_supported: body.token_endpoint_auth_methods_supported,
    jwks_uri: body.jwks_uri,
    response_modes_supported: body.response_modes_supported,
    subject_types_supported: body.subject_types_supported,
    id_token_signing_alg_values_supported: body.id_token_signing_alg_values_supported,
    response_types_supported: body.response_types_supported,
    scopes_supported: body.scopes_supported,
    issuer: body.issuer,
    request_uri_parameter_supported: false,
    userinfo_endpoint: body.userinfo_endpoint,
    authorization_endpoint: forBrowser(body.authorization_endpoint),
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: forBrowser(body.end_session_endpoint),
    claims_supported: body.claims_supported,
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value);
}

function isRedirect(status: number): boolean {
  return status === 302 || status === 303;
}
