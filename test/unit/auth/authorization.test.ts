import { acceptsSessions, checkRequirements, type Grants } from '../../../src/auth/authorization';
import { AuthError } from '../../../src/auth/errors';

const reader: Grants = { caller: 'session', roles: ['Reader'], groups: ['g1'], scopes: [] };
const token: Grants = { ...reader, caller: 'delegated', scopes: ['Orders.Read'] };
const daemon: Grants = { caller: 'app', roles: ['Orders.Read.All'], groups: [], scopes: [] };

function denial(grants: Grants, required: Parameters<typeof checkRequirements>[1]): AuthError {
  try {
    checkRequirements(grants, required);
  } catch (error) {
    return error as AuthError;
  }
  throw new Error('expected forbidden');
}

describe('checkRequirements', () => {
  it('passes when any listed role, group or scope is held, and with no requirements', () => {
    expect(() => checkRequirements(reader, {})).not.toThrow();
    expect(() => checkRequirements(reader, { roles: ['Admin', 'Reader'] })).not.toThrow();
    expect(() => checkRequirements(reader, { groups: ['g1'] })).not.toThrow();
    expect(() => checkRequirements(token, { scopes: ['Orders.Read'] })).not.toThrow();
    expect(() => checkRequirements(daemon, { appRoles: ['Orders.Read.All'] })).not.toThrow();
  });

  it('refuses a missing role with forbidden 403 naming the role, what the user has and how to get it', () => {
    const error = denial(reader, { roles: ['Admin'] });
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe('forbidden');
    expect(error.status).toBe(403);
    expect(error.details).toContain('"Admin"');
    expect(error.details).toContain('you have "Reader"');
    expect(error.details).toMatch(/assign you the role/);
  });

  it('refuses a missing group with forbidden, but unknown groups (overage) with groups_unavailable, never "not a member"', () => {
    expect(denial(reader, { groups: ['g2'] })).toMatchObject({ code: 'forbidden' });
    expect(denial(reader, { groups: ['g2'] }).details).toContain('"g2"');
    const unknown = denial(
      { ...token, groups: [], groupsUnknown: true },
      { scopes: ['Orders.Read'], groups: ['g2'] },
    );
    expect(unknown).toMatchObject({ code: 'groups_unavailable', status: 403 });
    expect(unknown.details).toMatch(/group overage marker/);
    // Known groups that include the one required are enough, overage or not.
    expect(() =>
      checkRequirements({ ...reader, groupsUnknown: true }, { groups: ['g1'] }),
    ).not.toThrow();
  });

  it('requires every kind given: the right role does not make up for a missing group', () => {
    expect(denial(reader, { roles: ['Reader'], groups: ['g9'] }).code).toBe('forbidden');
  });

  it('checks scopes on a user token, and on a browser session only the roles or groups also named', () => {
    expect(denial({ ...token, scopes: ['Other'] }, { scopes: ['Orders.Read'] }).details).toContain(
      'the token has "Other"',
    );
    expect(() =>
      checkRequirements(reader, { scopes: ['Orders.Read'], roles: ['Reader'] }),
    ).not.toThrow();
    // A user token still needs the user's role when one is required.
    expect(denial(token, { scopes: ['Orders.Read'], roles: ['Admin'] }).details).toContain(
      '"Admin"',
    );
  });

  it('refuses a browser session where only scopes or app permissions are named (an API for bearer tokens), never passes it for want of a check', () => {
    for (const required of [
      { appRoles: ['Data.Export.All'] },
      { scopes: ['Orders.Write'] },
      { scopes: ['Orders.Write'], appRoles: ['Data.Export.All'] },
    ]) {
      const refused = denial(reader, required);
      expect(refused.code).toBe('forbidden');
      expect(refused.details).toMatch(/^This is an API for bearer tokens: it needs the /);
    }
    expect(denial(reader, { appRoles: ['A.All'], scopes: ['S'] }).details).toContain(
      'the delegated scope "S" or the application permission "A.All"',
    );
    expect(acceptsSessions({ appRoles: ['A.All'] })).toBe(false);
    expect(acceptsSessions({ appRoles: ['A.All'], groups: ['g1'] })).toBe(true);
    expect(acceptsSessions({})).toBe(true);
  });

  it('takes bearer tokens only where the function names what they must carry', () => {
    expect(denial(token, { roles: ['Reader'] }).details).toMatch(/lists no scopes/);
    expect(denial(daemon, { scopes: ['Orders.Read'] }).details).toMatch(/app-only/);
    expect(denial(daemon, { appRoles: ['Other.All'] }).details).toContain(
      'application permission "Other.All"',
    );
  });

  it('does not let a daemon in through the user roles requirement', () => {
    expect(denial({ ...daemon, roles: ['Admin'] }, { roles: ['Admin'] }).code).toBe('forbidden');
  });
});
