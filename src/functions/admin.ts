import { HTML_PAGE, NO_STORE, prefersJson } from './http';
import { escapeHtml, page } from './pages';
import { requireUser } from './requireUser';

/** The app role the demo's Admin-only function requires (declared in infra/app/entra.bicep). */
export const ADMIN_ROLE = 'Admin';
/** The delegated scope of the app's API a user's bearer token must carry. */
export const API_SCOPE = 'access_as_user';
/** The application permission a daemon's app-only token must carry. */
export const DAEMON_ROLE = 'Admin.Read.All';

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
