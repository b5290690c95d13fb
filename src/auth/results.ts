import type { UserClaims } from '../ports/AuthStore';
import type { CookieToSet } from './cookies';

/** Framework-free outcomes of the use cases; src/functions turns them into HTTP responses. */

export interface RedirectResult {
  kind: 'redirect';
  location: string;
  cookies: CookieToSet[];
}

/** The signed-in user of a request, as getUser and /api/auth/me see the session. */
export interface CurrentUser {
  user: UserClaims;
  /** When the session ends if unused: the earlier of the idle and absolute expiry. */
  expiresAt: Date;
  /** When this session was created (the sign-in that made it). */
  signedInAt: Date;
}
