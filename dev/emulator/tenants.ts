import type { ServerResponse } from 'node:http';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';

/**
 * Entra's multi-tenant authorities: `/organizations` and `/common` serve the same endpoints as a
 * tenant's, and announce the issuer as a template, `https://<host>/{tenantid}/v2.0`; each token's
 * `iss` and `tid` name the signed-in user's own tenant. The emulator's users belong to its tenant
 * unless their `tenantId` names another one (a second tenant, for multi-tenant tests).
 * @see https://learn.microsoft.com/entra/identity-platform/howto-convert-app-to-be-multi-tenant
 */

export const MULTI_TENANT_SEGMENTS = ['organizations', 'common'] as const;

/** The mount (`/<tenant>`, `/organizations`, `/common`) a request path is under, if any. */
export function mountOf(pathname: string, tenantId: string): string | undefined {
  return [tenantId, ...MULTI_TENANT_SEGMENTS]
    .map((segment) => `/${segment}`)
    .find((mount) => pathname === mount || pathname.startsWith(`${mount}/`));
}

export function isMultiTenantMount(originalUrl: string | undefined): boolean {
  return MULTI_TENANT_SEGMENTS.some((s) => (originalUrl ?? '').startsWith(`/${s}/`));
}

/** `https://<host>/<tenant>/v2.0` to the issuer of another tenant, or to Entra's template. */
export function issuerOfTenant(issuer: string, ownTenant: string, tenant: string): string {
  return issuer.replace(`/${ownTenant}/v2.0`, `/${tenant}/v2.0`);
}

/**
 * oidc-provider signs every ID token with its one issuer: a user of another tenant gets the
 * same token re-signed (same key and kid) with that tenant's issuer, as Entra would issue it.
 */
export async function withIssuer(
  idToken: string,
  issuer: string,
  signingKey: JWK,
): Promise<string> {
  const header = decodeProtectedHeader(idToken);
  const key = await importJWK(signingKey, header.alg ?? 'RS256');
  return new SignJWT({ ...decodeJwt(idToken), iss: issuer })
    .setProtectedHeader({ alg: header.alg ?? 'RS256', kid: header.kid, typ: header.typ })
    .sign(key);
}

/** Entra's answer for a path outside every tenant the emulator serves. */
export function sendNotFound(res: ServerResponse, tenantId: string): void {
  const served = [tenantId, ...MULTI_TENANT_SEGMENTS].map((s) => `/${s}/`).join(', ');
  res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(
    JSON.stringify({
      error: 'invalid_tenant',
      error_description: `AADSTS90002: Tenant not found. This emulator serves ${served} only.`,
    }),
  );
}
