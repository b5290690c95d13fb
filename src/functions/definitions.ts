import type { HttpHandler, HttpMethod, TimerHandler } from '@azure/functions';
import { routes } from '../routes';
import { admin } from './admin';
import { callback } from './callback';
import { CLEANUP_SCHEDULE, cleanup } from './cleanup';
import { demo } from './demo';
import { health } from './health';
import { hello } from './hello';
import { login } from './login';
import { logout } from './logout';
import { me } from './me';
import { members } from './members';
import { profile } from './profile';

/**
 * THE list of the app's functions. src/main.ts registers it with @azure/functions, and the
 * local host (dev/) serves it: there is no second route table.
 */

export interface HttpFunctionDefinition {
  kind: 'http';
  name: string;
  route: string;
  methods: HttpMethod[];
  /** Browser routes are anonymous: function keys are not a user sign-in. */
  authLevel: 'anonymous';
  handler: HttpHandler;
}

export interface TimerFunctionDefinition {
  kind: 'timer';
  name: string;
  /** NCRONTAB with seconds: "{second} {minute} {hour} {day} {month} {day-of-week}". */
  schedule: string;
  handler: TimerHandler;
}

export type FunctionDefinition = HttpFunctionDefinition | TimerFunctionDefinition;

const http = (
  name: string,
  route: string,
  methods: HttpMethod[],
  handler: HttpHandler,
): HttpFunctionDefinition => ({
  kind: 'http',
  name,
  route,
  methods,
  authLevel: 'anonymous',
  handler,
});

export const functionDefinitions: readonly FunctionDefinition[] = [
  http('authLogin', routes.login, ['GET'], login),
  http('authCallback', routes.callback, ['GET'], callback),
  http('authMe', routes.me, ['GET'], me),
  http('authLogout', routes.logout, ['GET', 'POST'], logout),
  http('hello', routes.hello, ['GET'], hello),
  http('profile', routes.profile, ['GET'], profile),
  http('demo', routes.demo, ['GET'], demo),
  http('health', routes.health, ['GET'], health),
  http('admin', routes.admin, ['GET'], admin),
  http('members', routes.members, ['GET'], members),
  { kind: 'timer', name: 'authCleanup', schedule: CLEANUP_SCHEDULE, handler: cleanup },
];
