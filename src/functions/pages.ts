import { REASONS, type AuthError } from '../auth/errors';
import { routePath, routes } from '../routes';

/** The few HTML pages the app serves. Every dynamic value goes through escapeHtml. */

/** The value safe inside HTML text and quoted attributes (& < > " ' as character references). */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  :root { color-scheme: light dark; --accent: #0f6cbd; }
  * { box-sizing: border-box; }
  body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 3rem 1rem; background: Canvas; color: CanvasText; }
  main { max-width: 40rem; margin: 0 auto; }
  h1 { font-size: 1.5rem; margin: 0 0 1rem; text-wrap: balance; }
  a { color: var(--accent); }
  .card { border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); border-radius: 12px; padding: 1.5rem 2rem; }
  .button, button { display: inline-block; font: inherit; padding: .5rem 1.25rem; border-radius: 6px; border: 0; background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
  .button.secondary, button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
  code, .code { font-family: ui-monospace, "Cascadia Code", monospace; font-size: .9em; }
  .muted { opacity: .7; font-size: .9em; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { font-weight: 600; } dd { margin: 0; overflow-wrap: anywhere; }
  .details { background: color-mix(in srgb, CanvasText 6%, transparent); padding: .75rem 1rem; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
`;

/**
 * Referrer policy same-origin: nothing leaves for other sites (a page shown at the callback has
 * the code in its URL), while same-origin form posts keep a real Origin header, which the
 * sign-out check needs (with no-referrer, Chromium sends "Origin: null"). The empty icon stops
 * browsers asking for /favicon.ico, which is outside the routePrefix and would be a 404.
 */
export function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
${script ? `<script>${script}</script>` : ''}
</body>
</html>
`;
}

/**
 * The user cancelled at the sign-in page (Entra: `access_denied`, AADSTS65004 declined consent,
 * or "the user canceled"): the same reason code, idp_error, but not a fault to report to an
 * administrator. Known only when the provider's words are shown (a flow this browser started).
 * @see https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */
const CANCELLED = {
  title: 'Sign-in was cancelled',
  advice:
    'You cancelled the sign-in, so you are not signed in. You can try again whenever you like.',
} as const;

export function isCancelledSignIn(error: AuthError): boolean {
  return (
    error.code === 'idp_error' &&
    error.details !== undefined &&
    /^access_denied\b|AADSTS65004|user (has )?cancel+ed/i.test(error.details)
  );
}

export function errorPage(error: AuthError, correlationId: string, retryUrl: string): string {
  const reason = isCancelledSignIn(error) ? CANCELLED : REASONS[error.code];
  const retry = isCancelledSignIn(error) ? 'Try again' : 'Sign in again';
  return page(
    reason.title,
    `<div class="card" data-reason="${escapeHtml(error.code)}">
  <h1>${escapeHtml(reason.title)}</h1>
  <p>${escapeHtml(reason.advice)}</p>
  ${error.details ? `<p class="details">${escapeHtml(error.details)}</p>` : ''}
  <p><a class="button" href="${escapeHtml(retryUrl)}">${retry}</a></p>
  <p class="muted">Reason code <code id="reason-code">${escapeHtml(error.code)}</code> &middot; correlation id <code id="correlation-id">${escapeHtml(correlationId)}</code></p>
</div>`,
  );
}

/** GET /api/auth/logout: no state change on GET, only a button that POSTs. */
export function logoutPage(): string {
  return page(
    'Sign out',
    `<div class="card">
  <h1>Sign out</h1>
  <p>End your session in this app and with Microsoft Entra ID.</p>
  <form method="post" action="${routePath(routes.logout)}">
    <button type="submit" id="sign-out">Sign out</button>
  </form>
</div>`,
  );
}
