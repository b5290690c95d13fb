import type { RecordKey, SessionRecord, UserClaims } from '../ports/AuthStore';
import type { SessionTokens } from './accessTokens';
import type { AuthContext } from './AuthContext';
import { readSessionCookie } from './cookies';
import type { CurrentUser } from './results';
import { errorForLog } from './redact';
import { sha256 } from './secrets';

/**
 * The row key is a hash of the cookie's secret: a leaked table row cannot be replayed as a
 * cookie, and the cookie stays the same small size whatever the user's group count.
 */
export function sessionKeyOf(partition: string, secret: string): RecordKey {
  return { partition, id: sha256(secret) };
}

/** The session cookie's row key and the secret that opens its token cache; none without one. */
export function sessionTokensOf(
  cookies: Readonly<Record<string, string>>,
): SessionTokens | undefined {
  const cookie = readSessionCookie(cookies);
  return cookie && { key: sessionKeyOf(cookie.partition, cookie.secret), secret: cookie.secret };
}

/**
 * Slide the idle expiry at most this often per session, so reads are not all writes: a tenth
 * of the idle timeout, so a session in use never reaches it, however short it is.
 */
export function idleRefreshSeconds(sessionIdleSeconds: number): number {
  return Math.max(1, Math.floor(sessionIdleSeconds / 10));
}

/**
 * At most this many groups are kept in a session: Entra's own limit for groups in a token
 * (past it Entra sends none and an overage claim instead).
 * @see https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference#groups-overage-claim
 */
export const MAX_SESSION_GROUPS = 200;

/** The claims as a session keeps them: beyond MAX_SESSION_GROUPS, no groups and a marker. */
export function sessionClaims(user: UserClaims): UserClaims {
  if (user.groups.length <= MAX_SESSION_GROUPS) return user;
  return { ...user, groups: [], groupsOverage: true };
}

/** The browser's live session, if any (no sliding: a pure check). */
export async function findCurrentSession(
  ctx: Pick<AuthContext, 'store' | 'clock'>,
  cookies: Readonly<Record<string, string>>,
): Promise<SessionRecord | undefined> {
  const cookie = readSessionCookie(cookies);
  if (!cookie) return undefined;
  const session = await ctx.store.readSession(sessionKeyOf(cookie.partition, cookie.secret));
  if (!session) return undefined;
  const now = ctx.clock.now();
  return session.idleExpiresAt > now && session.absoluteExpiresAt > now ? session : undefined;
}

/**
 * What /api/auth/me and requireUser answer: the signed-in user, sliding the idle expiry
 * (one write per refresh interval, never beyond the absolute expiry).
 */
export async function getCurrentUser(
  ctx: AuthContext,
  cookies: Readonly<Record<string, string>>,
): Promise<CurrentUser | undefined> {
  const session = await findCurrentSession(ctx, cookies);
  if (!session) return undefined;
  const now = ctx.clock.now();
  const { sessionIdleSeconds } = ctx.config;
  let idleExpiresAt = session.idleExpiresAt;
  const lastExtendedAt = idleExpiresAt.getTime() - sessionIdleSeconds * 1000;
  if (now.getTime() - lastExtendedAt >= idleRefreshSeconds(sessionIdleSeconds) * 1000) {
    const extended = new Date(
      Math.min(now.getTime() + sessionIdleSeconds * 1000, session.absoluteExpiresAt.getTime()),
    );
    if (extended > idleExpiresAt) {
      try {
        await ctx.store.extendSession(session.key, extended);
        idleExpiresAt = extended;
      } catch (error) {
        // The session is valid as read; failing to slide it only shortens it.
        ctx.log.warn(`session: idle expiry not extended: ${errorForLog(error)}`);
      }
    }
  }
  const expiresAt =
    idleExpiresAt < session.absoluteExpiresAt ? idleExpiresAt : session.absoluteExpiresAt;
  return { user: session.user, expiresAt, signedInAt: session.createdAt };
}
