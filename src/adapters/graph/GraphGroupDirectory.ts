import { AuthError } from '../../auth/errors';
import { GROUPS_GRAPH_SCOPES } from '../../auth/groupMembership';
import type { GroupDirectory, GroupLookupBounds } from '../../ports/GroupDirectory';

/**
 * The user's groups from Microsoft Graph: `GET /me/transitiveMemberOf/microsoft.graph.group`,
 * the groups (nested ones included, as the token's groups claim) of the token's own user, paged
 * with `@odata.nextLink`. For the signed-in user's own memberships its least-privileged
 * delegated permission is `User.Read`, which needs no admin consent and which the app already
 * asks for (groups the permission cannot read come back with their id only, all we need).
 * @see https://learn.microsoft.com/graph/api/user-list-transitivememberof
 * @see https://learn.microsoft.com/graph/paging
 */

/** Graph's largest page for directory objects. */
const PAGE_SIZE = 999;
/** Used when Graph says it is busy or down without a Retry-After. */
const DEFAULT_RETRY_AFTER_SECONDS = 10;
const MAX_RETRY_AFTER_SECONDS = 300;
const GROUPS_PERMISSION = GROUPS_GRAPH_SCOPES.join(' ');

interface GroupPage {
  value?: { id?: unknown }[];
  '@odata.nextLink'?: unknown;
}

export class GraphGroupDirectory implements GroupDirectory {
  constructor(private readonly graphBaseUrl: URL) {}

  async memberGroupIds(accessToken: string, bounds: GroupLookupBounds): Promise<string[]> {
    const overall = AbortSignal.timeout(bounds.overallTimeoutMs);
    const first = new URL('/v1.0/me/transitiveMemberOf/microsoft.graph.group', this.graphBaseUrl);
    first.searchParams.set('$select', 'id');
    first.searchParams.set('$top', String(PAGE_SIZE));
    const ids: string[] = [];
    let next: URL | undefined = first;
    for (let pages = 0; next; pages++) {
      if (pages === bounds.maxPages) {
        throw permanent(
          `the user is in more groups than ${bounds.maxPages} pages of ${PAGE_SIZE} hold; this app reads no more`,
        );
      }
      const page = await this.readPage(next, accessToken, overall, bounds);
      for (const item of page.value ?? []) {
        if (typeof item.id === 'string') ids.push(item.id);
      }
      next = this.nextLinkOf(page);
    }
    return ids;
  }

  private async readPage(
    url: URL,
    accessToken: string,
    overall: AbortSignal,
    bounds: GroupLookupBounds,
  ): Promise<GroupPage> {
    const signal = AbortSignal.any([overall, AbortSignal.timeout(bounds.pageTimeoutMs)]);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
        signal,
        // These endpoints do not redirect; the user's token goes to no other URL than Graph's.
        redirect: 'manual',
      });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      throw transient(
        timedOut
          ? `Microsoft Graph did not answer within ${overall.aborted ? bounds.overallTimeoutMs : bounds.pageTimeoutMs} ms`
          : `Microsoft Graph could not be reached (${(error as Error).name})`,
        DEFAULT_RETRY_AFTER_SECONDS,
        error,
      );
    }
    if (response.ok) {
      try {
        return (await response.json()) as GroupPage;
      } catch (error) {
        throw permanent('Microsoft Graph answered with a body that is not JSON', error);
      }
    }
    const code = await graphErrorCode(response);
    if (response.status === 429 || response.status >= 500) {
      throw transient(
        `Microsoft Graph answered ${response.status}${code} to the group lookup`,
        retryAfterOf(response),
      );
    }
    if (response.status === 403) {
      throw permanent(
        `Microsoft Graph refused the group lookup (403${code}): this app needs the delegated permission ${GROUPS_PERMISSION} of Microsoft Graph, consented for this user or by an administrator for the organisation (Entra ID > App registrations > this app > API permissions).`,
      );
    }
    throw permanent(`Microsoft Graph answered ${response.status}${code} to the group lookup`);
  }

  /** Only a next page on Graph itself: the user's token never goes to another host. */
  private nextLinkOf(page: GroupPage): URL | undefined {
    const link = page['@odata.nextLink'];
    if (link === undefined) return undefined;
    const url = typeof link === 'string' ? URL.parse(link) : null;
    if (!url || url.origin !== this.graphBaseUrl.origin) {
      throw permanent('Microsoft Graph sent a next page link to another origin');
    }
    return url;
  }
}

async function graphErrorCode(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? ` ${body.error.code.slice(0, 64)}` : '';
  } catch {
    return '';
  }
}

function retryAfterOf(response: Response): number {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isInteger(seconds) && seconds > 0
    ? Math.min(seconds, MAX_RETRY_AFTER_SECONDS)
    : DEFAULT_RETRY_AFTER_SECONDS;
}

/** Worth trying again: 503 with Retry-After. */
function transient(message: string, retryAfterSeconds: number, cause?: unknown): AuthError {
  return new AuthError('groups_unavailable', message, {
    cause,
    details: `${message}. Try again in a moment.`,
    retryAfterSeconds,
  });
}

/** Not worth retrying until something changes: 502, no Retry-After. */
function permanent(message: string, cause?: unknown): AuthError {
  return new AuthError('groups_unavailable', message, { cause, details: message, status: 502 });
}
