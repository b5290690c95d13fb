import { app, type HttpResponseInit } from '@azure/functions';
import { HTML_PAGE, page, signInPath } from 'entra-functions-signin';
import { examplePath, exampleRoutes } from '../routes';

/**
 * GET /api/demo: what a newcomer sees first. Uses only the public endpoints: it asks
 * /api/auth/me who is signed in, and offers the sign-in link and the sign-out form. It says
 * "signed out" after its own sign-out and "session ended" when a session it showed is gone
 * (idle or absolute expiry, or a sign-out in another tab): /me's anonymous 401 carries no
 * reason, so the page remembers, in sessionStorage, what it last saw.
 */
export async function demo(): Promise<HttpResponseInit> {
  // The routes are read per request (registerSignIn may have moved them after this file
  // loaded); the page, the same for every request, is built and encoded once per route set.
  const routes = [signInPath('me'), signInPath('login'), signInPath('logout')].join(' ');
  if (cached?.routes !== routes) cached = { routes, body: new TextEncoder().encode(demoPage()) };
  return { status: 200, headers: { ...HTML_PAGE }, body: cached.body };
}

let cached: { routes: string; body: Uint8Array } | undefined;

function demoPage(): string {
  const ME = signInPath('me');
  const LOGIN = `${signInPath('login')}?returnTo=${encodeURIComponent(examplePath('demo'))}`;
  const LOGOUT = signInPath('logout');
  const [HELLO, PROFILE, ADMIN, MEMBERS] = [
    examplePath('hello'),
    examplePath('profile'),
    examplePath('admin'),
    examplePath('members'),
  ];
  return page(
    'Entra ID sign-in on Azure Functions',
    `<div class="card">
  <h1>Entra ID sign-in on Azure Functions</h1>
  <p id="status" aria-live="polite">Checking your session&hellip;</p>
  <div id="signed-in" hidden>
    <dl id="claims"></dl>
    <p class="muted">Session ends <span id="expires"></span> unless used. Try the protected function <a href="${HELLO}">${HELLO}</a>, or <a id="profile-link" href="${PROFILE}">your profile from Microsoft Graph</a> (called with your access token, which stays on the server).</p>
    <p class="muted">Admins only: <a id="admin-link" href="${ADMIN}">${ADMIN}</a> (the app role <code>Admin</code>; other users get <code>forbidden</code>).</p>
    <p class="muted">One group's members only: <a id="members-link" href="${MEMBERS}">${MEMBERS}</a> (Nestor Wilke is in 250 groups, past what a token carries: his groups are read from Microsoft Graph).</p>
    <form method="post" action="${LOGOUT}"><button type="submit" id="sign-out" class="secondary">Sign out</button></form>
  </div>
  <div id="signed-out" hidden>
    <p><a class="button" id="sign-in" href="${LOGIN}">Sign in</a></p>
  </div>
</div>`,
    `
const SESSION_KEY = 'demo-session';
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
        const value = key === 'groups' && user.groupsOverage
          ? 'more than a token carries (group overage): read from Microsoft Graph when a function requires groups'
          : Array.isArray(user[key]) ? user[key].length + ' (' + user[key].slice(0, 3).join(', ') + (user[key].length > 3 ? ', ...' : '') + ')' : user[key];
        if (value === undefined) continue;
        const dt = document.createElement('dt'); dt.textContent = key;
        const dd = document.createElement('dd'); dd.textContent = value; dd.dataset.claim = key;
        claims.append(dt, dd);
      }
      document.getElementById('expires').textContent = new Date(body.expiresAt).toLocaleString();
      document.getElementById('signed-in').hidden = false;
      sessionStorage.setItem(SESSION_KEY, 'signed-in');
      document.getElementById('sign-out').form.addEventListener('submit', () => sessionStorage.setItem(SESSION_KEY, 'signing-out'));
    } else if (body.error) {
      // /me answered with a reason code (a 5xx): say what it is, not "not signed in".
      status.textContent = body.error === 'misconfigured'
        ? 'This app is misconfigured: sign-in cannot work until its settings are fixed (the log of the functions host names the problems).'
        : 'Sign-in is unavailable right now: ' + body.message + ' (reason code ' + body.error + ').';
      status.dataset.state = body.error === 'misconfigured' ? 'misconfigured' : 'error';
    } else {
      // The page remembers what it last saw, so it can tell "signed out" and "ended" apart.
      const endedBy = sessionStorage.getItem(SESSION_KEY);
      sessionStorage.removeItem(SESSION_KEY);
      status.textContent = endedBy === 'signing-out'
        ? 'You are signed out.'
        : endedBy === 'signed-in'
          ? 'Your session has ended (it expired, or was ended elsewhere). Sign in again to continue.'
          : 'You are not signed in.';
      status.dataset.state = 'signed-out';
      status.dataset.ended = endedBy === 'signing-out' ? 'signed-out' : endedBy === 'signed-in' ? 'session-ended' : '';
      document.getElementById('signed-out').hidden = false;
    }
  } catch (error) {
    status.textContent = 'Could not reach ${ME}: ' + error;
    status.dataset.state = 'error';
  }
})();
`,
  );
}

app.http('demo', {
  route: exampleRoutes.demo,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: demo,
});
