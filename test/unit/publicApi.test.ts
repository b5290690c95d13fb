import path from 'node:path';
import ts from 'typescript';
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

  it('when a consumer reads an export in lib/index.d.ts, then it has TSDoc (the README promises it on each)', () => {
    const entry = path.join(__dirname, '../../src/index.ts');
    const program = ts.createProgram([entry], { strict: true, noEmit: true });
    const checker = program.getTypeChecker();
    const exported = checker.getExportsOfModule(
      checker.getSymbolAtLocation(program.getSourceFile(entry)!)!,
    );
    const undocumented = exported
      .map((symbol) =>
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol,
      )
      .filter((symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)) === '')
      .map((symbol) => symbol.getName());
    expect(exported.length).toBeGreaterThan(20);
    expect(undocumented).toEqual([]);
  });
});
