import { aadstsCode, forLog } from '../../auth/redact';

/**
 * One log line's worth of an upstream error (MSAL, the token, discovery or keys endpoint). The
 * provider's error_description may hold what it was sent (secret, code, verifier): keep its code
 * and AADSTS number, redact the rest and cap it.
 */
export function describeUpstreamError(error: unknown): string {
  if (isMsalError(error)) {
    const code = forLog(`${error.errorCode}${error.subError ? `/${error.subError}` : ''}`, 64);
    const aadsts = aadstsCode(error.errorMessage);
    return `${code}${aadsts ? ` (${aadsts})` : ''}: ${forLog(error.errorMessage)}`;
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return forLog(cause instanceof Error ? `${error.message} (${cause.message})` : error.message);
  }
  return forLog(String(error));
}

/**
 * An msal-node AuthError (or subclass), told by its shape: an `instanceof` would make msal-node
 * load at start-up with everything that describes errors (see lazyMsalIdentityProvider).
 */
function isMsalError(
  error: unknown,
): error is Error & { errorCode: string; errorMessage: string; subError?: string } {
  const candidate = error as { errorCode?: unknown; errorMessage?: unknown } | null;
  return (
    error instanceof Error &&
    typeof candidate?.errorCode === 'string' &&
    typeof candidate.errorMessage === 'string'
  );
}
