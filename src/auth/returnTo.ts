/**
 * Where the browser may be sent after sign-in. Only a same-origin relative path, or an absolute
 * URL on an explicitly allowed origin; anything else falls back to the app's default landing (`AUTH_DEFAULT_RETURN_TO`, "/" unless set). Never an open redirect.
 * @see https://datatracker.ietf.org/doc/html/rfc9700#section-4.11 (open redirectors)
 */

export const FALLBACK_RETURN_TO = '/';
const MAX_RETURN_TO_LENGTH = 2048;
// A single leading slash followed by a path character: rules out "//host", "/\host" and "/".
const RELATIVE_PATH = /^\/(?![/\\])[^\s\\]*$/;
// Control characters, any whitespace (incl. Unicode spaces and bidi marks) and backslashes:
// browsers strip or reinterpret them, which is how "/\tevil" or "/\\evil" become other hosts.
const UNSAFE_CHARACTER =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff\\]/;

export interface ReturnToDecision {
  returnTo: string;
  /** Why the requested value was refused (for the log), when it was. */
  rejected?: string;
}

export function resolveReturnTo(
  requested: string | undefined,
  allowedOrigins: readonly string[],
  /** Where a missing or refused value lands: the app's default landing (already checked). */
  fallback: string = FALLBACK_RETURN_TO,
): ReturnToDecision {
  const decision = checkReturnTo(requested, allowedOrigins);
  const missing = requested === undefined || requested === '';
  return missing || decision.rejected ? { ...decision, returnTo: fallback } : decision;
}

function checkReturnTo(
  requested: string | undefined,
  allowedOrigins: readonly string[],
): ReturnToDecision {
  if (requested === undefined || requested === '') return { returnTo: FALLBACK_RETURN_TO };
  if (requested.length > MAX_RETURN_TO_LENGTH) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'too long' };
  }
  if (UNSAFE_CHARACTER.test(requested)) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'whitespace, control character or backslash' };
  }
  if (requested.startsWith('/')) return relativePath(requested);
  return absoluteUrl(requested, allowedOrigins);
}

function relativePath(requested: string): ReturnToDecision {
  if (!RELATIVE_PATH.test(requested)) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'not a same-origin path' };
  }
  // Decoding must not reveal a second slash or backslash either ("/%2F%2Fevil", "/%5Cevil"),
  // at any depth of encoding.
  let decoded = requested;
  for (let i = 0; i < 3; i++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return { returnTo: FALLBACK_RETURN_TO, rejected: 'malformed percent-encoding' };
    }
    if (!RELATIVE_PATH.test(next)) {
      return { returnTo: FALLBACK_RETURN_TO, rejected: 'encoded path escapes the origin' };
    }
    if (next === decoded) break;
    decoded = next;
  }
  // Parse against a dummy origin: the result must stay on it. URL parsing removes dot
  // segments ("/.//evil" becomes "//evil"), so the output is checked again, not only the input.
  const base = 'https://return-to.invalid';
  const parsed = new URL(requested, base);
  const normalised = parsed.pathname + parsed.search + parsed.hash;
  if (parsed.origin !== base || !RELATIVE_PATH.test(normalised)) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'leaves the origin once normalised' };
  }
  return { returnTo: normalised };
}

function absoluteUrl(requested: string, allowedOrigins: readonly string[]): ReturnToDecision {
  if (allowedOrigins.length === 0) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'absolute URL and no allowed origins' };
  }
  // Require an explicit scheme://: "https:evil.com" parses as a URL but is not what it seems.
  if (!/^https?:\/\/[^/\\]/i.test(requested)) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'not an http(s) URL' };
  }
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'not a URL' };
  }
  if (url.username || url.password) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: 'userinfo in URL' };
  }
  if (!allowedOrigins.includes(url.origin)) {
    return { returnTo: FALLBACK_RETURN_TO, rejected: `origin ${url.origin} is not allowed` };
  }
  return { returnTo: url.href };
}
