import { app } from '@azure/functions';
import {
  escapeHtml,
  HTML_PAGE,
  NO_STORE,
  page,
  prefersJson,
  requireUser,
} from 'entra-functions-signin';
import { ADMIN_ROLE, API_SCOPE, DAEMON_ROLE } from '../permissions';
import { exampleRoutes } from '../routes';

/**
 * GET /api/admin: an example of a function for one app role. A signed-in user without the role
 * gets `forbidden` (403) from requireUser; the handler runs only for Admins. API callers may
 * send a bearer token instead: an Admin's token with the scope, or a daemon's with its role.
 */
export const admin = requireUser(
  { roles: [ADMIN_ROLE], scopes: [API_SCOPE], appRoles: [DAEMON_ROLE] },
  async (request, _context, { user, bearer }) => {
    const who = user.name ?? user.preferred_username ?? user.oid;
    if (bearer || prefersJson(request)) {
      return {
        status: 200,
        headers: { ...NO_STORE },
        jsonBody: { admin: true, user: who, caller: bearer?.kind ?? 'session' },
      };
    }
    return {
      status: 200,
      headers: { ...HTML_PAGE },
      body: page(
        'Admin',
        `<div class="card"><h1 id="admin-greeting">Admin area: welcome, ${escapeHtml(who)}</h1>
<p>This function is protected with <code>requireUser({ roles: ['${ADMIN_ROLE}'] })</code>.</p></div>`,
      ),
    };
  },
);

app.http('admin', {
  route: exampleRoutes.admin,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: admin,
});
