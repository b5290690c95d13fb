import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random values and hashes of the flow. Everything is base64url: safe in URLs, cookies and table keys. */

export const FLOW_SECRET_BYTES = 16; // 128 bits, the floor for flow cookies, state and nonce (RFC 6749 section 10.10)
export const SESSION_SECRET_BYTES = 32; // 256 bits for the session cookie

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * PKCE verifier (43 characters from 32 random bytes) and its S256 challenge.
 * @see https://datatracker.ietf.org/doc/html/rfc7636#section-4.1
 */
export function createPkce(): { codeVerifier: string; codeChallenge: string } {
  const codeVerifier = randomToken(32);
  return { codeVerifier, codeChallenge: sha256(codeVerifier) };
}

/** Compares two secrets without leaking, through timing, how much of them matched. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
