/**
 * The closed set of reason codes (README, Troubleshooting by reason code) and the one table that maps each to its HTTP
 * status and the words a person sees. Only AuthError is thrown by the flow.
 */

export const REASONS = {
  missing_flow_cookie: {
    status: 400,
    title: 'Your browser did not send back the sign-in cookie',
    advice:
      'The sign-in started, but the cookie that ties it to this browser was not returned. Cookies may be blocked for this site, the sign-in may have started on another host name than the one it returned to, or the site was opened over plain http. Allow cookies for this site and sign in again.',
  },
  unknown_state: {
    status: 400,
    title: 'This sign-in was not started in this browser',
    advice:
      'The sign-in response does not belong to a sign-in this browser started: it may come from another browser or device, or from an old link. Sign in again from here.',
  },
  state_expired: {
    status: 400,
    title: 'The sign-in took too long',
    advice: 'This sign-in attempt expired before it was finished. Sign in again.',
  },
  state_already_used: {
    status: 400,
    title: 'This sign-in was already completed',
    advice:
      'The sign-in response was used once already (a reload or the back button). Sign in again if you are not signed in.',
  },
  idp_error: {
    status: 400,
    title: 'Microsoft Entra ID did not sign you in',
    advice:
      'The identity provider answered with an error instead of signing you in (its own description is below when the sign-in started in this browser). Sign in again, or contact your administrator if it keeps happening.',
  },
  token_exchange_failed: {
    status: 502,
    title: 'The sign-in could not be completed with the identity provider',
    advice:
      'The identity provider refused or failed to complete the sign-in. Sign in again; if it keeps failing, the app registration or its credential may be misconfigured.',
  },
  idp_throttled: {
    status: 503,
    title: 'The identity provider asked us to wait',
    advice:
      'The identity provider is busy and asked this app to wait before trying again (the Retry-After header says how long). Other sign-ins are not affected. Wait a moment and sign in again.',
  },
  invalid_id_token: {
    status: 400,
    title: 'The identity token was not valid',
    advice:
      'The token that proves who you are failed validation (signature, issuer, audience, lifetime or nonce). Sign in again; if it keeps failing, check the server clock and the authority settings.',
  },
  tenant_not_allowed: {
    status: 403,
    title: 'Your organisation is not allowed to use this app',
    advice:
      'You signed in with an account from a tenant this app does not accept. Sign in with another account.',
  },
  invalid_access_token: {
    status: 401,
    title: 'The access token was not accepted',
    advice:
      "The bearer token sent to this API failed validation: signature, issuer, audience (this app's client id or app ID URI), lifetime, or it is not an access token for this API (an ID token, or a token for another app). Request a new access token for this API and call again.",
  },
  forbidden: {
    status: 403,
    title: 'You do not have access to this',
    advice:
      'You are signed in, but this needs an app role, a group membership or a permission you do not hold (named below). Ask an administrator of this app to assign it to you, then sign in again; or sign in with another account that has it.',
  },
  groups_unavailable: {
    status: 503,
    title: 'Your group memberships could not be read',
    advice:
      'You are in more groups than a sign-in token carries, so this app asks Microsoft Graph for them, and that did not work (the reason is below). This is not a decision that you lack access. If it says to try again, wait a moment and reload; if it names a missing permission, ask an administrator of this app to grant it.',
  },
  storage_unavailable: {
    status: 503,
    title: 'Sign-in is temporarily unavailable',
    advice:
      'The sign-in store could not be reached. Nothing was half-saved. Try again in a moment.',
  },
  claims_too_large: {
    status: 400,
    title: 'Your account carries more information than this app can keep',
    advice:
      'The identity provider sent claims about you (names, roles or other values) too large for this app to store in a session, so you cannot be signed in this way. This will not go away by retrying: ask your administrator to reduce the claims issued to this app.',
  },
  invalid_request: {
    status: 400,
    title: 'The request was malformed',
    advice: 'The request carried oversized or invalid parameters or cookies. Sign in again.',
  },
  consent_required: {
    status: 401,
    title: 'This app needs your permission first',
    advice:
      'To do this, the app needs access you have not granted yet (for example to read your profile). Sign in again and accept the permissions it asks for; if your organisation requires an administrator to approve them, ask your administrator.',
  },
  reauthentication_required: {
    status: 401,
    title: 'Please sign in again',
    advice:
      'Your sign-in can no longer be used to reach the services this page needs: it was revoked or expired, your password changed, or extra verification (such as multi-factor authentication) is required. Sign in again to continue.',
  },
  misconfigured: {
    status: 500,
    title: 'Sign-in is not configured correctly',
    advice:
      'The server settings for sign-in are missing or contradictory. The administrator will find the details in the log under the correlation id below.',
  },
} as const satisfies Record<string, { status: number; title: string; advice: string }>;

/** The closed set of failure codes, e.g. `missing_flow_cookie`, `forbidden`, `groups_unavailable`. */
export type ReasonCode = keyof typeof REASONS;

/** What a sign-in must request to fix a token failure: the API's scopes, a claims challenge. */
export interface SignInNeeds {
  scopes?: readonly string[];
  claims?: string;
}

/**
 * A failure with a reason code (the README's troubleshooting table), its HTTP status, and
 * details safe to show; what every sign-in, token and authorization failure is thrown as.
 */
export class AuthError extends Error {
  readonly code: ReasonCode;
  /** Safe to show: e.g. Entra's error and error_description for idp_error. */
  readonly details?: string;
  readonly status: number;
  /** The return URL of the flow that failed, when known, for "Sign in again". */
  returnTo?: string;
  /** For consent_required / reauthentication_required: what the new sign-in must ask for. */
  readonly signIn?: SignInNeeds;
  /** Seconds before trying again is worth it (sent as Retry-After), when the cause says so. */
  readonly retryAfterSeconds?: number;
  /** The same request again cannot succeed: the provider refused it, it did not fail. */
  readonly final?: true;

  constructor(
    code: ReasonCode,
    message: string,
    options?: {
      cause?: unknown;
      details?: string;
      status?: number;
      retryAfterSeconds?: number;
      signIn?: SignInNeeds;
      final?: true;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthError';
    this.code = code;
    this.details = options?.details;
    this.signIn = options?.signIn;
    // A few uses of a code answer with another status, e.g. a cross-site logout is a 403.
    this.status = options?.status ?? REASONS[code].status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    if (options?.final) this.final = true;
  }
}

/** Whether an error is an AuthError (then it has `code`, `status` and maybe `retryAfterSeconds`). */
export function isAuthError(error: unknown): error is AuthError {
  return error instanceof AuthError;
}
