import type { HttpRequest, InvocationContext } from '@azure/functions';
import { readSessionCookie } from '../auth/cookies';
import { AuthError } from '../auth/errors';
import { groupsOfSessionUser } from '../auth/groupMembership';
import { sessionKeyOf } from '../auth/sessions';
import type { UserClaims } from '../ports/AuthStore';
import { authContext } from '../composition';
import { functionsLogger, requestCookies } from './http';

/**
 * The group ids of this request's signed-in user: the token's, or on group overage those
 * resolved through Microsoft Graph (once per session, see src/auth/groupMembership.ts).
 */
export async function groupsOfUser(
  request: HttpRequest,
  context: InvocationContext,
  user: UserClaims,
): Promise<readonly string[]> {
  if (!user.groupsOverage) return user.groups;
  const cookie = readSessionCookie(requestCookies(request));
  if (!cookie) {
    throw new AuthError('reauthentication_required', 'no session cookie to resolve groups with');
  }
  const key = sessionKeyOf(cookie.partition, cookie.secret);
  return groupsOfSessionUser(
    authContext(functionsLogger(context)),
    { key, secret: cookie.secret },
    user,
  );
}
