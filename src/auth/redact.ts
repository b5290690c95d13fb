/**
 * Text that came from outside (the identity provider, the browser) made safe to log or show.
 * A hostile or buggy provider can echo what it was sent (client secret, authorization code,
 * PKCE verifier, tokens): anything shaped like one is replaced, whatever the provider meant.
 */

import { isAuthError } from './errors';

export const REDACTED = '[redacted]';

/** Parameters whose value is a secret wherever it appears (`code=...`, `"client_secret": "..."`). */
const SECRET_PARAMETER =
  /\b(code|code_verifier|client_secret|client_assertion|assertion|access_token|id_token|refresh_token|token|password|secret|nonce|state|sig|accountkey|sharedaccesssignature)(\s*(?:["']\s*)?(?:=|:|%3d)\s*["']?)([^\s&"',;)]+)/gi;
/** Runs of base64, base64url, hex and Entra-secret characters (`~`), dots included (JWTs). */
const CHARACTER_RUN = /[A-Za-z0-9._~+/=%-]{16,}/g;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEGMENT_SEPARATOR = /[._~+/=%-]/;
const WORD = /^[A-Z]?[a-z]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * A run of 16 or more token characters is kept only when it reads as words (host names,
 * paths, `consent_required`) or is a GUID (Entra's trace and correlation ids); anything with
 * a digit or a case change inside a word is treated as a secret.
 */
function isHarmlessRun(run: string): boolean {
  if (GUID.test(run)) return true;
  if (/\d/.test(run)) return false;
  return run.split(SEGMENT_SEPARATOR).every((segment) => WORD.test(segment));
}

/** Replaces everything secret-shaped; keeps line breaks (for a page). */
export function redactSecrets(text: string): string {
  return text
    .replace(SECRET_PARAMETER, (_match, name: string, separator: string) => {
      return `${name}${separator}${REDACTED}`;
    })
    .replace(CHARACTER_RUN, (run) => (isHarmlessRun(run) ? run : REDACTED));
}

/**
 * One log line's worth of outside text: secrets redacted, control characters (line breaks
 * that could forge log lines) turned into spaces, and at most maxLength characters.
 */
export function forLog(text: string, maxLength = 200): string {
  const flat = redactSecrets(text).replace(CONTROL_CHARACTERS, ' ').trim();
  return flat.length > maxLength ? `${flat.slice(0, maxLength)}...` : flat;
}

/**
 * A caught error for a log line. An AuthError's message is this project's own, its outside parts
 * already redacted (a storage code such as AuthorizationPermissionMismatch kept): redacting it
 * again would hide them. Anything else is outside text.
 */
export function errorForLog(error: unknown): string {
  if (isAuthError(error)) return `${error.code}: ${error.message.replace(CONTROL_CHARACTERS, ' ')}`;
  return forLog(String(error));
}

/** Outside text for a page: secrets redacted, line breaks kept, bounded. */
export function forDisplay(text: string, maxLength = 1024): string {
  const redacted = redactSecrets(text);
  return redacted.length > maxLength ? `${redacted.slice(0, maxLength)}...` : redacted;
}

/**
 * Entra's error number (`AADSTS50011`), the one thing support and the troubleshooting table need.
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
export function aadstsCode(text: string | undefined): string | undefined {
  return text ? /\bAADSTS\d{4,9}\b/.exec(text)?.[0] : undefined;
}
