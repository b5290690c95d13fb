import { escapeHtml } from '../../src/functions/pages';

/**
 * What the local host answers at `/` when no function has that route: Azure's Functions host
 * shows its own "up and running" page there (unless AzureWebJobsDisableHomepage is set), so
 * this one does too, listing the app's GET functions so a newcomer finds the way in.
 */
export function homePage(getPaths: readonly string[]): string {
  const links = getPaths
    .map((p) => `<li><a href="${escapeHtml(p)}">${escapeHtml(p)}</a></li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Functions app: up and running</title>
<link rel="icon" href="data:,"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1 id="host-home">Your Functions app is up and running</h1>
<p>This is the local host's page at <code>/</code>, as Azure's Functions host shows one.
The app's functions are under its route prefix:</p>
<ul id="functions">
${links || '<li>(no HTTP function with a GET route)</li>'}
</ul>
</body></html>`;
}

/** The GET paths a browser can open: routes without parameters, under the prefix. */
export function openablePaths(prefix: string, routes: readonly string[]): string[] {
  return routes
    .filter((route) => !route.includes('{'))
    .map((route) => `/${[prefix, route].filter(Boolean).join('/')}`.replace(/\/+/g, '/'));
}
