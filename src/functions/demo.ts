import type { HttpResponseInit } from '@azure/functions';
import { routePath, routes } from '../routes';
import { HTML_PAGE } from './http';
import { page } from './pages';

const ME = routePath(routes.me);
const LOGIN = `${routePath(routes.login)}?returnTo=${encodeURIComponent(routePath(routes.demo))}`;
const LOGOUT = routePath(routes.logout);
const HELLO = routePath(routes.hello);
const PROFILE = routePath(routes.profile);
const ADMIN = routePath(routes.admin);

/**
 * GET /api/demo: what a newcomer sees first. Uses only the public endpoints: it asks
 * /api/auth/me who is signed in, and offers the sign-in link and the sign-out form.
 */
export async function demo(): Promise<HttpResponseInit> {
  return {
    status: 200,
    headers: { ...HTML_PAGE },
    body: page(
      'Entra ID sign-in on Azure Functions',
      `<div class="card">
  <h1>Entra ID sign-in on Azure Functions</h1>
  <p id="status" aria-live="polite">Checking your session&hellip;</p>
  <div id="signed-in" hidden>
    <dl id="claims"></dl>
    <p class="muted">Session ends <span id="expires"></span> unless used. Try the protected function <a href="${HELLO}">${HELLO}</a>, or <a id="profile-link" href="${PROFILE}">your profile from Microsoft Graph</a> (called with your access token, which stays on the server).</p>
    <p class="muted">Admins only: <a id="admin-link" href="${ADMIN}">${ADMIN}</a> (the app role <code>Admin</code>; other users get <code>forbidden</code>).</p>
    <form method="post" action="${LOGOUT}"><button type="submit" id="sign-out" class="secondary">Sign out</button></form>
  </div>
  <div id="signed-out" hidden>
    <p><a class="button" id="sign-in" href="${LOGIN}">Sign in</a></p>
  </div>
</div>`,
      `
(async () => {
  const status = document.getElementById('status');
  try {
    const response = await fetch('${ME}', { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    const body = await response.json();
    if (body.authenticated) {
      const user = body.user;
      status.textContent = 'Signed in as ' + (user.name || user.preferred_username) + '.';
      status.dataset.state = 'signed-in';
      const claims = document.getElementById('claims');
      for (const key of ['name', 'preferred_username', 'email', 'oid', 'tid', 'roles', 'groups']) {
        const value = Array.isArray(user[key]) ? user[key].length + ' (' + user[key].slice(0, 3).join(', ') + (user[key].length > 3 ? ', ...' : '') + ')' : user[key];
        if (value === undefined) continue;
        const dt = document.createElement('dt'); dt.textContent = key;
        const dd = document.createElement('dd'); dd.textContent = value; dd.dataset.claim = key;
        claims.append(dt, dd);
      }
      document.getElementById('expires').textContent = new Date(body.expiresAt).toLocaleString();
      document.getElementById('signed-in').hidden = false;
    } else {
      status.textContent = 'You are not signed in.';
      status.dataset.state = 'signed-out';
      document.getElementById('signed-out').hidden = false;
    }
  } catch (error) {
    status.textContent = 'Could not reach ${ME}: ' + error;
    status.dataset.state = 'error';
  }
})();
`,
    ),
  };
}
