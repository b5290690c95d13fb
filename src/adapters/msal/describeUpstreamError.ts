import { AuthError as MsalAuthError } from '@azure/msal-node';
import { aadstsCode, forLog } from '../../auth/redact';

/**
 * One log line's worth of an upstream error (MSAL, the token, discovery or keys endpoint). The
 * provider's error_description may hold what it was sent (secret, code, verifier): keep its code
 * and AADSTS number, redact the rest and cap it.
 */
export function describeUpstreamError(error: unknown): string {
  if (error instanceof MsalAuthError) {
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
