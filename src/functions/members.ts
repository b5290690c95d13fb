import { NO_STORE, HTML_PAGE, prefersJson } from './http';
import { escapeHtml, page } from './pages';
import { requireUser } from './requireUser';

/**
 * The group the demo's members-only function requires: one of the emulator's Nestor Wilke's
 * 250 groups, past the 200 a token carries, so his membership is only known through Graph.
 */
export const MEMBERS_GROUP_ID = 'd5823d4e-0f77-49c2-9b3a-75382a4ce0b7';

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
