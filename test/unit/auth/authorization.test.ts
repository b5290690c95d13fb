import { checkRequirements, type Grants } from '../../../src/auth/authorization';
import { AuthError } from '../../../src/auth/errors';

const reader: Grants = { roles: ['Reader'], groups: ['g1'] };

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
    expect(() =>
      checkRequirements({ ...reader, scopes: ['Orders.Read'] }, { scopes: ['Orders.Read'] }),
    ).not.toThrow();
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

  it('refuses a missing group, and says so when the groups are unknown (overage)', () => {
    expect(denial(reader, { groups: ['g2'] }).details).toContain('"g2"');
    expect(denial({ ...reader, groupsUnknown: true }, { groups: ['g2'] }).details).toMatch(
      /could not be read/,
    );
  });

  it('requires every kind given: the right role does not make up for a missing group', () => {
    expect(denial(reader, { roles: ['Reader'], groups: ['g9'] }).code).toBe('forbidden');
  });

  it('checks scopes on a token, and not on a browser session (which has no token scopes)', () => {
    expect(denial({ ...reader, scopes: ['Other'] }, { scopes: ['Orders.Read'] }).details).toContain(
      '"Orders.Read"',
    );
    expect(() => checkRequirements(reader, { scopes: ['Orders.Read'] })).not.toThrow();
  });
});
