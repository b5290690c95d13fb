import { AuthError } from './errors';

/**
 * Input checks at the edge of every use case: oversized or illegal values are refused with
 * invalid_request before anything is read or written.
 */

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export function checkParameter(
  name: string,
  value: string | undefined,
  rule: { maxLength: number; pattern?: RegExp },
): string | undefined {
  if (value === undefined) return undefined;
  if (value.length > rule.maxLength) {
    throw new AuthError(
      'invalid_request',
      `parameter ${name} is longer than ${rule.maxLength} characters`,
    );
  }
  if (!(rule.pattern ?? PRINTABLE_ASCII).test(value)) {
    throw new AuthError('invalid_request', `parameter ${name} has illegal characters`);
  }
  return value === '' ? undefined : value;
}

/** Browsers send at most a few KB of cookies; far more is an attack or a broken client. */
export const MAX_COOKIE_HEADER_LENGTH = 8192;

export function checkCookieHeader(header: string | null | undefined): void {
  if (header && header.length > MAX_COOKIE_HEADER_LENGTH) {
    throw new AuthError(
      'invalid_request',
      `Cookie header is longer than ${MAX_COOKIE_HEADER_LENGTH} characters`,
    );
  }
}
