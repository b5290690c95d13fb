import type { HttpRequest, InvocationContext } from '@azure/functions';
import { AuthError } from '../auth/errors';
import { groupsOfRequestUser, groupsOfSessionUser } from '../auth/groupMembership';
import { sessionTokensOf } from '../auth/sessions';
import type { UserClaims } from '../ports/AuthStore';
import { authContext } from '../composition';
import { functionsLogger, requestCookies } from './http';

/**
 * The group ids of this request's signed-in user: the token's, or on group overage those
 * resolved through Microsoft Graph (once per session, see src/auth/groupMembership.ts). On
 * overage the user must be the one of the request's session (not a bearer caller's):
 * otherwise `groups_unavailable` (403).
 */
export async function groupsOfUser(
  request: HttpRequest,
  context: InvocationContext,
  user: UserClaims,
): Promise<readonly string[]> {
  if (!user.groupsOverage) return user.groups;
  return groupsOfRequestUser(authContext(functionsLogger(context)), requestCookies(request), user);
}

/**
 * For requireUser, once getUser has found this request's live session and `user` is its user:
 * the same answer without reading the session again.
 */
export async function groupsOfCheckedSession(
  request: HttpRequest,
  context: InvocationContext,
  user: UserClaims,
): Promise<readonly string[]> {
  if (!user.groupsOverage) return user.groups;
  const session = sessionTokensOf(requestCookies(request));
  if (!session) {
    throw new AuthError('reauthentication_required', 'no session cookie to resolve groups with');
  }
  return groupsOfSessionUser(authContext(functionsLogger(context)), session, user);
}
