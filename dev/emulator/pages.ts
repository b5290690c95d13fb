/**
 * The emulator's HTML. Tests rely on the login page's markup: one
 * `<form method="post" action="...">` per user with a hidden `username` input and a submit
 * button whose text is the user's name. Change it only together with test/support.
 */

export interface PageUser {
  preferred_username: string;
  name: string;
  roles: string[];
  groups: string[];
}

export interface LoginHint {
  value: string;
  /** The matching user's preferred_username, when the hint names one. */
  username?: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function loginPage(
  users: readonly PageUser[],
  action: string,
  hint: LoginHint | undefined,
  unknownUser = false,
): string {
  // Like Entra's account picker, the hinted account comes first and has the focus.
  const ordered = [...users].sort(
    (a, b) =>
      Number(b.preferred_username === hint?.username) -
      Number(a.preferred_username === hint?.username),
  );
  const accounts = ordered
    .map((user) => {
      const hinted = user.preferred_username === hint?.username;
      const details = [
        user.preferred_username,
        user.roles.length > 0 ? `roles: ${user.roles.join(', ')}` : '',
        `${user.groups.length} group${user.groups.length === 1 ? '' : 's'}`,
      ].filter(Boolean);
      return `
      <form method="post" action="${escapeHtml(action)}" class="account${hinted ? ' hinted' : ''}">
        <input type="hidden" name="username" value="${escapeHtml(user.preferred_username)}">
        <span class="avatar" aria-hidden="true">${escapeHtml(initials(user.name))}</span>
        <span class="who">
          <button type="submit"${hinted ? ' autofocus' : ''}>${escapeHtml(user.name)}</button>
          <span class="details">${details.map(escapeHtml).join(' · ')}</span>
        </span>
      </form>`;
    })
    .join('');
  const notes = [
    unknownUser ? '<p class="warning">That account is not one of the test users.</p>' : '',
    hint && !hint.username
      ? `<p class="note">No test user matches the login hint “${escapeHtml(hint.value)}”.</p>`
      : '',
  ].join('');
  return page(
    'Sign in – Entra ID emulator',
    `
    <h1>Pick an account</h1>
    <p class="lead">Test users of the local Entra ID emulator. No password needed.</p>
    ${notes}
    <div class="accounts">${accounts}
    </div>
    <form method="post" action="${escapeHtml(action)}/cancel" class="cancel">
      <button type="submit">Cancel</button>
    </form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(
    `${title} – Entra ID emulator`,
    `<h1>${escapeHtml(title)}</h1>
    <p class="lead">${escapeHtml(message)}</p>`,
  );
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('');
}

function page(title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>${escapeHtml(title)}</title>
  <style>
    :root { color-scheme: light; font-family: "Segoe UI", system-ui, -apple-system, sans-serif; }
    body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f2f2f2; color: #1b1b1b; }
    main { width: min(440px, calc(100vw - 32px)); background: #fff; box-shadow: 0 2px 6px rgba(0,0,0,.2); padding: 44px; box-sizing: border-box; }
    .brand { display: flex; align-items: center; gap: 8px; font-size: 15px; color: #5e5e5e; margin-bottom: 16px; }
    .brand::before { content: ""; width: 20px; height: 20px; background: conic-gradient(#f25022 0 25%, #7fba00 0 50%, #00a4ef 0 75%, #ffb900 0); }
    .badge { margin-left: auto; font-size: 12px; background: #fff4ce; color: #6b5200; padding: 2px 8px; border-radius: 10px; }
    h1 { font-size: 24px; font-weight: 600; margin: 0 0 8px; }
    .lead { margin: 0 0 16px; color: #444; }
    .accounts { display: grid; margin: 0 -44px; }
    .account { display: flex; align-items: center; gap: 12px; padding: 12px 44px; margin: 0; }
    .account:hover, .account.hinted { background: #f2f8fd; }
    .avatar { flex: none; width: 40px; height: 40px; border-radius: 50%; display: grid; place-items: center; background: #0067b8; color: #fff; font-weight: 600; }
    .who { display: grid; min-width: 0; }
    .who button { all: unset; cursor: pointer; font-size: 15px; font-weight: 600; }
    .who button:focus-visible { outline: 2px solid #0067b8; outline-offset: 2px; }
    .who button::after { content: ""; position: absolute; inset: 0; }
    .account { position: relative; }
    .details { font-size: 13px; color: #5e5e5e; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .cancel { margin-top: 24px; text-align: right; }
    .cancel button { font: inherit; padding: 6px 20px; border: 1px solid #8c8c8c; background: #fff; cursor: pointer; }
    .warning { color: #a80000; }
    .note { color: #5e5e5e; font-size: 13px; }
  </style>
</head>
<body>
  <main>
    <div class="brand">Microsoft Entra ID <span class="badge">local emulator · development only</span></div>
    ${content}
  </main>
</body>
</html>
`;
}
