import { readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  AuthenticatedHandler,
  CurrentUser,
  ReasonCode,
  Requirements,
  SignedInUser,
  UserClaims,
} from '../../src/index';
import * as api from '../../src/index';

/** The package's public API as a consumer meets it (src/index.ts, built to lib/index.d.ts). */

describe('the public API', () => {
  it('when a consumer names the types of a handler, its user and a requirement, then they are exported', () => {
    const user: UserClaims = { oid: 'o', tid: 't', roles: [], groups: [] };
    const current: CurrentUser = { user, expiresAt: new Date(), signedInAt: new Date() };
    const signedIn: SignedInUser = { ...current };
    const requirement: Requirements = { roles: ['Admin'] };
    const code: ReasonCode = 'groups_unavailable';
    const handler: AuthenticatedHandler = async () => ({ status: 204 });
    expect([signedIn.user.oid, requirement.roles, code, typeof handler]).toEqual([
      'o',
      ['Admin'],
      'groups_unavailable',
      'function',
    ]);
    expect(Object.keys(api).sort()).toEqual(
      [
        'AuthError',
        'HTML_PAGE',
        'NO_STORE',
        'claimsChallengeOf',
        'escapeHtml',
        'getAccessToken',
        'getUser',
        'graphBaseUrl',
        'groupsOfUser',
        'isAuthError',
        'page',
        'prefersJson',
        'registerSignIn',
        'requireUser',
        'signInPath',
      ].sort(),
    );
  });

  it('when a function is declared in src/index.ts, then its TSDoc sits right above it (what lib/index.d.ts keeps)', () => {
    const source = readFileSync(path.join(__dirname, '../../src/index.ts'), 'utf8');
    const lines = source.split('\n');
    const undocumented = lines.flatMap((line, i) =>
      /^export function /.test(line) && !/\*\/\s*$/.test(lines[i - 1] ?? '') ? [line] : [],
    );
    expect(lines.filter((l) => l.startsWith('export function ')).length).toBeGreaterThan(0);
    expect(undocumented).toEqual([]);
  });
});
