import { RestError } from '@azure/data-tables';
import { forLog } from '../../auth/redact';

/** Reading the SDK's errors: HTTP status and the service's error code, wherever it put them. */

export function statusOf(error: unknown): number | undefined {
  if (error instanceof RestError) return error.statusCode;
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The service's error code (`TableNotFound`, `EntityAlreadyExists`...). The SDK sets
 * `RestError.code` only for transactions; point operations leave it undefined and keep the
 * code in `details.errorCode` (and in the body's `odata.error.code`).
 */
export function serviceCodeOf(error: unknown): string | undefined {
  const candidate = error as {
    code?: unknown;
    details?: { errorCode?: unknown; 'odata.error'?: { code?: unknown } };
  } | null;
  for (const code of [
    candidate?.code,
    candidate?.details?.errorCode,
    candidate?.details?.['odata.error']?.code,
  ]) {
    if (typeof code === 'string' && code) return code;
  }
  return undefined;
}

/** The SDK's AbortError, or the TimeoutError of an AbortSignal.timeout that fired first. */
export function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/**
 * Storage's error codes are a fixed vocabulary of letters (`AuthorizationPermissionMismatch`, the
 * missing role assignment): shown as they are, where the redaction of the message around them
 * would take a case change inside a word for a secret.
 * @see https://learn.microsoft.com/rest/api/storageservices/table-service-error-codes
 */
const SERVICE_CODE = /^[A-Za-z]{1,64}$/;

export function describe(error: unknown): string {
  if (error instanceof RestError) {
    const status = String(error.statusCode ?? error.code ?? 'network error');
    const code = serviceCodeOf(error);
    const shown = (text: string) => (SERVICE_CODE.test(text) ? text : forLog(text, 64));
    return `${shown(status)}${code && code !== status ? ` ${shown(code)}` : ''} ${forLog(error.message)}`;
  }
  return forLog(error instanceof Error ? error.message : String(error));
}
