import { app } from '@azure/functions';
import { escapeHtml, HTML_PAGE, NO_STORE, page, requireUser } from 'entra-functions-signin';
import { exampleRoutes } from '../routes';

/**
 * /api/hello: an example of a function protected with requireUser. GET shows a page; POST (a
 * state-changing call, which requireUser takes only from the app's own pages) answers JSON.
 */
export const hello = requireUser(async (request, _context, { user }) => {
  const name = user.name ?? user.preferred_username ?? user.oid;
  if (request.method === 'POST') {
    return { status: 200, headers: { ...NO_STORE }, jsonBody: { hello: name, method: 'POST' } };
  }
  return {
    status: 200,
    headers: { ...HTML_PAGE },
    body: page(
      'Hello',
      `<div class="card"><h1 id="greeting">Hello, ${escapeHtml(name)}!</h1>
<p>This function is protected with <code>requireUser</code>.</p></div>`,
    ),
  };
});

app.http('hello', {
  route: exampleRoutes.hello,
  methods: ['GET', 'POST'],
  authLevel: 'anonymous',
  handler: hello,
});
