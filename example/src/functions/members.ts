import { app } from '@azure/functions';
import {
  escapeHtml,
  HTML_PAGE,
  NO_STORE,
  page,
  prefersJson,
  requireUser,
} from 'entra-functions-signin';
import { MEMBERS_GROUP_ID } from '../permissions';
import { exampleRoutes } from '../routes';

/**
 * GET /api/members: an example of a function for the members of one group. A user whose token
 * carried the overage marker instead of groups is looked up in Microsoft Graph (once per
 * session); one who is not a member gets `forbidden`; Graph down gives `groups_unavailable`.
 */
export const members = requireUser(
  { groups: [MEMBERS_GROUP_ID] },
  async (request, _context, { user }) => {
    const who = user.name ?? user.preferred_username ?? user.oid;
    if (prefersJson(request)) {
      return {
        status: 200,
        headers: { ...NO_STORE },
        jsonBody: {
          member: true,
          user: who,
          group: MEMBERS_GROUP_ID,
          overage: user.groupsOverage === true,
        },
      };
    }
    return {
      status: 200,
      headers: { ...HTML_PAGE },
      body: page(
        'Members',
        `<div class="card"><h1 id="members-greeting">Members area: welcome, ${escapeHtml(who)}</h1>
<p>This function is protected with <code>requireUser({ groups: ['${MEMBERS_GROUP_ID}'] })</code>${
          user.groupsOverage ? '; your groups were read from Microsoft Graph (group overage)' : ''
        }.</p></div>`,
      ),
    };
  },
);

app.http('members', {
  route: exampleRoutes.members,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: members,
});
