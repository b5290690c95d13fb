import {
  AuthError as MsalAuthError,
  type ClientAssertionCallback,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { httpExchange, type HttpAnswer } from './httpExchange';

/**
 * msal-node's HTTP client replaced by one that (1) bounds every call by AUTH_IDP_TIMEOUT_MS
 * (msal-node sets no timeout: a hung token endpoint held a callback ~300 s), and (2) never lets
 * msal-node see an answer it would throttle on. msal-node caches a throttle after a 429, a 5xx
 * or any error with Retry-After, keyed by a request "thumbprint" that every user's code
 * redemption shares: one user's failure then blocked every sign-in of the instance for 60 s to
 * an hour. Those answers become an UpstreamFailure thrown here, before msal-node's throttling
 * step runs; the adapter turns it into a reason code for this one sign-in.
 */

/** Retry-After beyond this is capped (msal-node's own cap, one hour). */
export const MAX_RETRY_AFTER_SECONDS = 3600;

export type UpstreamFailureKind = 'timeout' | 'network' | 'status' | 'malformed';

/** The provider failed this request (not the request's fault): thrown through msal-node as is. */
export class UpstreamFailure extends MsalAuthError {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    readonly status?: number,
    readonly retryAfterSeconds?: number,
    /** The provider's OAuth error code, when its body had one. */
    readonly oauthError?: string,
  ) {
    super('upstream_failure', '', message);
    // msal-node's AuthError resets the prototype to its own: restore ours for instanceof.
    Object.setPrototypeOf(this, UpstreamFailure.prototype);
    this.name = 'UpstreamFailure';
  }
}

/** A 429 without Retry-After: wait as long as msal-node itself would (60 s). */
const DEFAULT_THROTTLE_SECONDS = 60;

/**
 * Seconds to wait when the provider throttled (a 429, or a 5xx with Retry-After), its own
 * Retry-After when it gave one; undefined for any other failure.
 */
export function throttleSecondsOf(error: unknown): number | undefined {
  if (!(error instanceof UpstreamFailure) || error.status === undefined) return undefined;
  const throttled =
    error.status === 429 || (error.status >= 500 && error.retryAfterSeconds !== undefined);
  return throttled ? (error.retryAfterSeconds ?? DEFAULT_THROTTLE_SECONDS) : undefined;
}

export class BoundedNetworkClient implements INetworkModule {
  constructor(private readonly timeoutMs: number) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'GET', options, timeout);
  }

  sendPostRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>(url, 'POST', options);
  }

  private async send<T>(
    url: string,
    method: 'GET' | 'POST',
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const timeoutMs = Math.min(timeout ?? this.timeoutMs, this.timeoutMs);
    const endpoint = describeEndpoint(url);
    let response: HttpAnswer;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      response = await httpExchange(url, {
        method,
        headers: options?.headers,
        body: options?.body,
        signal,
      });
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      if (signal.aborted || name === 'TimeoutError' || name === 'AbortError') {
        throw new UpstreamFailure(
          'timeout',
          `${endpoint} did not answer within ${timeoutMs} ms (AUTH_IDP_TIMEOUT_MS)`,
        );
      }
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new UpstreamFailure(
        'network',
        `${endpoint} could not be reached: ${(error as Error).message}${cause ? ` (${cause})` : ''}`,
      );
    }

    const { headers, status } = response;
    const ok = status >= 200 && status < 300;
    const contentType = headers['content-type'] ?? 'no content type';
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      body = undefined;
    }
    const retryAfterSeconds = parseRetryAfter(headers['retry-after'] ?? null);
    const oauth = isRecord(body) ? body : {};
    const oauthError = typeof oauth.error === 'string' ? oauth.error : undefined;

    // What msal-node would throttle every user on (429, 5xx, an error with Retry-After).
    if (status === 429 || status >= 500 || (!ok && retryAfterSeconds !== undefined)) {
      throw new UpstreamFailure(
        'status',
        `${endpoint} answered ${status}${oauthError ? ` ${oauthError}` : ` (${contentType})`}${retryAfterSeconds !== undefined ? `, Retry-After ${retryAfterSeconds} s` : ''}`,
        status,
        retryAfterSeconds,
        oauthError,
      );
    }
    if (!isRecord(body)) {
      throw new UpstreamFailure(
        'malformed',
        `${endpoint} answered ${status} with a body that is not a JSON object (${contentType})`,
        status,
      );
    }
    // OAuth error answers (400 invalid_grant...) go to msal-node, which reads them itself.
    return { headers, body: body as T, status };
  }
}

/**
 * A client assertion callback (the managed identity token of the federated credential) bounded
 * like every other call: msal-node awaits it before each token request.
 */
export function boundedClientAssertion(
  callback: ClientAssertionCallback,
  timeoutMs: number,
): ClientAssertionCallback {
  return (config) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new UpstreamFailure(
              'timeout',
              `the client assertion (managed identity token) did not arrive within ${timeoutMs} ms (AUTH_IDP_TIMEOUT_MS)`,
            ),
          ),
        timeoutMs,
      );
      callback(config).then(
        (assertion) => {
          clearTimeout(timer);
          resolve(assertion);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        },
      );
    });
}

/** Retry-After as delta-seconds or an HTTP date, capped; undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | null,
  now: number = Date.now(),
): number | undefined {
  if (!value?.trim()) return undefined;
  const trimmed = value.trim();
  const seconds = /^\d+$/.test(trimmed)
    ? Number(trimmed)
    : Math.ceil((Date.parse(trimmed) - now) / 1000);
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS);
}

/** The endpoint without its query (msal-node puts a client-request-id there). */
function describeEndpoint(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return 'the identity provider';
  const path = parsed.pathname;
  const name = path.endsWith('/token') ? 'the token endpoint' : 'the identity provider';
  return `${name} (${parsed.origin}${path})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
