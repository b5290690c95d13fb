import { app } from '@azure/functions';
import { escapeHtml, HTML_PAGE, page, requireUser } from 'entra-functions-signin';
import { exampleRoutes } from '../routes';

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

app.http('hello', {
  route: exampleRoutes.hello,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: hello,
});
