import { HTML_PAGE } from './http';
import { escapeHtml, page } from './pages';
import { requireUser } from './requireUser';

/** GET /api/hello: an example of a function protected with requireUser. */
export const hello = requireUser(async (_request, _context, { user }) => ({
  status: 200,
  headers: { ...HTML_PAGE },
  body: page(
    'Hello',
    `<div class="card"><h1 id="greeting">Hello, ${escapeHtml(user.name ?? user.preferred_username ?? user.oid)}!</h1>
<p>This function is protected with <code>requireUser</code>.</p></div>`,
  ),
}));
