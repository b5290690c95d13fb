import { forLog } from './redact';

/**
 * Whether a browser sent a request from this app's own pages. Browsers send `Origin` with every
 * POST, PUT, PATCH and DELETE (and `Sec-Fetch-Site`); a request with neither, or with
 * `Origin: null`, is not trusted. `SameSite=Lax` cookies alone let same-site pages of other
 * origins (a sibling subdomain of a custom domain) send such requests with the user's session.
 */

export interface RequestOrigin {
  url: URL;
  /** The request's Origin header, if any. */
  origin?: string;
  /** The request's Sec-Fetch-Site header, if any. */
  secFetchSite?: string;
}

export function isSameOrigin(request: RequestOrigin, appOrigin: string): boolean {
  if (request.origin !== undefined) {
    return request.origin === request.url.origin || request.origin === appOrigin;
  }
  return request.secFetchSite === 'same-origin';
}

/** For log lines: what the request said about where it came from. */
export function describeOrigin(request: RequestOrigin): string {
  const shown = (value: string | undefined) =>
    value === undefined ? 'absent' : forLog(value, 100);
  return `Origin ${shown(request.origin)}, Sec-Fetch-Site ${shown(request.secFetchSite)}`;
}
