/**
 * A downstream API's claims challenge: with Continuous Access Evaluation (or conditional access
 * needing more), the API answers 401 with
 * `WWW-Authenticate: Bearer error="insufficient_claims", claims="<base64 JSON>"`. The decoded JSON
 * goes to a token refresh and, if that is not enough, to a new sign-in (`claims` parameter).
 * @see https://learn.microsoft.com/entra/identity-platform/claims-challenge
 * @see https://datatracker.ietf.org/doc/html/rfc6750#section-3
 */

const MAX_CLAIMS_LENGTH = 4096;

/** The claims (JSON text) of an insufficient_claims challenge, or undefined. */
export function claimsChallengeOf(wwwAuthenticate: string | null | undefined): string | undefined {
  if (!wwwAuthenticate || !/^\s*Bearer\b/i.test(wwwAuthenticate)) return undefined;
  const params = new Map<string, string>();
  for (const match of wwwAuthenticate.matchAll(/([A-Za-z_]+)\s*=\s*"([^"]*)"/g)) {
    params.set((match[1] as string).toLowerCase(), match[2] as string);
  }
  const encoded = params.get('claims');
  if (params.get('error') !== 'insufficient_claims' || !encoded) return undefined;
  if (encoded.length > MAX_CLAIMS_LENGTH) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  return isClaimsRequest(decoded) ? decoded : undefined;
}

/** A claims request is a JSON object (OpenID Connect Core 5.5), small enough for a URL. */
export function isClaimsRequest(value: string): boolean {
  if (value.length > MAX_CLAIMS_LENGTH) return false;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}
