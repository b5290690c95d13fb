import { app } from '@azure/functions';
import { initialise } from './composition';
import { functionDefinitions } from './functions/definitions';

/** The entry point the Functions host loads (package.json "main", bundled to dist/main.js). */

// Settings are read and validated once, at start-up; problems are logged here, all at once.
initialise();

for (const definition of functionDefinitions) {
  if (definition.kind === 'http') {
    const { name, route, methods, authLevel, handler } = definition;
    app.http(name, { route, methods, authLevel, handler });
  } else {
    app.timer(definition.name, { schedule: definition.schedule, handler: definition.handler });
  }
}

export { functionDefinitions };
export { getUser, requireUser } from './functions/requireUser';
export type { RequireUserOptions, SignedInUser } from './functions/requireUser';
export { claimsChallengeOf, getAccessToken } from './functions/tokens';
export type { AccessToken, AccessTokenRequest } from './functions/tokens';
export type { CurrentUser } from './auth/results';
