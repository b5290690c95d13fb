import type { UserClaims } from '../ports/AuthStore';
import type { GroupLookupBounds } from '../ports/GroupDirectory';
import { getAccessToken, type SessionTokens } from './accessTokens';
import type { AuthContext } from './AuthContext';
import { readSessionCookie } from './cookies';
import { AuthError } from './errors';
import { errorForLog } from './redact';
import { findCurrentSession } from './sessions';

/**
 * Group overage: a user in more groups than a token carries (Entra: 200 in a JWT) gets an
 * overage marker instead of the groups claim, and so does a session whose token carried more
 * groups than it keeps (MAX_SESSION_GROUPS). Their groups are then read from Microsoft Graph,
 * lazily: at the first function that requires groups, not at sign-in (which stays at 3 storage
 * round trips), and kept beside the session until it ends, so Graph is asked once per session.
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference#groups-overage-claim
 */

/** The delegated Graph permission the lookup needs (least privileged for the user's own groups). */
export const GROUPS_GRAPH_SCOPES = ['User.Read'];

/**
 * Pages of 999 groups: 20 pages hold 19,980 groups, more than anyone but a test account has,
 * and fewer than a session's groups row holds.
 */
export const MAX_GROUP_PAGES = 20;

/**
 * The session user's group ids: the claim's when the token carried them, else resolved
 * through Graph (and cached with the session). Throws AuthError `groups_unavailable` when
 * Graph fails, never an empty list that would read as "not a member".
 */
export async function groupsOfSessionUser(
  ctx: AuthContext,
  session: SessionTokens,
  user: UserClaims,
): Promise<readonly string[]> {
  if (!user.groupsOverage) return user.groups;
  const cached = await ctx.sessionGroups.readSessionGroups(session.key);
  if (cached) return cached.groupIds;
  const flight = `groups/${session.key.partition}/${session.key.id}`;
  return ctx.refreshes.run(flight, () => resolveThroughGraph(ctx, session));
}

/**
 * The groups of `user` for a request with these cookies, for handlers (groupsOfUser): only
 * when the request's live session is that user's, so a handler that passes the user of a bearer
 * token, or of another request, never gets the groups of whoever's session cookie came along.
 * One more session read, and only on overage.
 */
export async function groupsOfRequestUser(
  ctx: AuthContext,
  cookies: Readonly<Record<string, string>>,
  user: UserClaims,
): Promise<readonly string[]> {
  if (!user.groupsOverage) return user.groups;
  const cookie = readSessionCookie(cookies);
  const session = cookie ? await findCurrentSession(ctx, cookies) : undefined;
  if (!cookie || !session || session.user.oid !== user.oid || session.user.tid !== user.tid) {
    const details =
      "This user's groups are not in the token (Entra's group overage marker instead), and they are looked up in Microsoft Graph only for the same user's signed-in browser session; for a bearer caller that would need the on-behalf-of flow. Check app roles instead, or sign in in the browser.";
    throw new AuthError('groups_unavailable', 'groups unknown (overage): not this session', {
      details,
      status: 403,
    });
  }
  return groupsOfSessionUser(ctx, { key: session.key, secret: cookie.secret }, session.user);
}

async function resolveThroughGraph(
  ctx: AuthContext,
  session: SessionTokens,
): Promise<readonly string[]> {
  const { token } = await getAccessToken(ctx, session, { scopes: GROUPS_GRAPH_SCOPES });
  const bounds: GroupLookupBounds = {
    pageTimeoutMs: ctx.config.idpTimeoutMs,
    overallTimeoutMs: ctx.config.idpTimeoutMs,
    maxPages: MAX_GROUP_PAGES,
  };
  const groupIds = [...new Set(await ctx.groupDirectory.memberGroupIds(token, bounds))];
  try {
    await ctx.sessionGroups.writeSessionGroups(session.key, {
      groupIds,
      resolvedAt: ctx.clock.now(),
    });
  } catch (error) {
    // The answer is right for this request; the next one asks Graph again.
    ctx.log.warn(`groups: resolved groups not kept with the session: ${errorForLog(error)}`);
  }
  ctx.log.info(`groups: resolved ${groupIds.length} groups through Microsoft Graph (overage)`);
  return groupIds;
}
