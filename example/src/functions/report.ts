import { app } from '@azure/functions';
import { NO_STORE, requireUser } from 'entra-functions-signin';
import { API_SCOPE, DAEMON_ROLE } from '../permissions';
import { exampleRoutes } from '../routes';

/**
 * GET /api/report: an API for bearer callers only. It names what a token must carry (a daemon's
 * application permission, or a user's delegated scope) and no role or group a browser session
 * could hold, so a signed-in browser gets `forbidden` and an anonymous one 401, not a sign-in.
 */
export const report = requireUser(
  { appRoles: [DAEMON_ROLE], scopes: [API_SCOPE] },
  async (_request, _context, { user, bearer }) => ({
    status: 200,
    headers: { ...NO_STORE },
    jsonBody: {
      report: 'sign-ins',
      caller: bearer?.kind,
      clientAppId: bearer?.clientAppId,
      user: bearer?.kind === 'delegated' ? user.oid : undefined,
    },
  }),
);

app.http('report', {
  route: exampleRoutes.report,
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: report,
});
