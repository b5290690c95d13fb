import { app } from '@azure/functions';
import { initialise } from './composition';
import { functionDefinitions } from './functions/definitions';

/** The entry point the Functions host loads (package.json "main", bundled to dist/main.js). */

// Settings are read and validated once, at start-up; problems are logged here, all at once.
initialise();

// Outside the Functions host (the local dev host, tests) app.http registers nothing and prints
// one "test mode" warning per function: the local host serves functionDefinitions itself.
if (functionsRuntimePresent()) registerAll();

function registerAll(): void {
  for (const definition of functionDefinitions) {
    if (definition.kind === 'http') {
      const { name, route, methods, authLevel, handler } = definition;
      app.http(name, { route, methods, authLevel, handler });
    } else {
      app.timer(definition.name, { schedule: definition.schedule, handler: definition.handler });
    }
  }
}

/** The worker provides `@azure/functions-core`; @azure/functions detects the host the same way. */
function functionsRuntimePresent(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@azure/functions-core');
    return true;
  } catch {
    return false;
  }
}

export { functionDefinitions };
export { getUser, requireUser } from './functions/requireUser';
export type { RequireUserOptions, SignedInUser } from './functions/requireUser';
export { groupsOfUser } from './functions/sessionGroups';
export { claimsChallengeOf, getAccessToken } from './functions/tokens';
export type { AccessToken, AccessTokenRequest } from './functions/tokens';
export type { CurrentUser } from './auth/results';
