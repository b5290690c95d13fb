import { idleRefreshSeconds, MAX_SESSION_GROUPS, sessionClaims } from '../../../src/auth/sessions';
import type { UserClaims } from '../../../src/ports/AuthStore';

describe('idleRefreshSeconds', () => {
  it.each([10, 30, 60, 3600])(
    'when the idle timeout is %i s, then the session slides well before it',
    (idleSeconds) => {
      expect(idleRefreshSeconds(idleSeconds)).toBeGreaterThanOrEqual(1);
      expect(idleRefreshSeconds(idleSeconds)).toBeLessThanOrEqual(idleSeconds / 10);
    },
  );
});

describe('sessionClaims', () => {
  const user = (groups: number): UserClaims => ({
    oid: 'o',
    tid: 't',
    roles: [],
    groups: Array.from({ length: groups }, (_, i) => `g${i}`),
  });

  it('when the groups are within the limit, then they are kept as they are', () => {
    expect(sessionClaims(user(MAX_SESSION_GROUPS))).toEqual(user(MAX_SESSION_GROUPS));
  });

  it('when the groups exceed the limit, then none are kept and the overage is marked', () => {
    expect(sessionClaims(user(MAX_SESSION_GROUPS + 1))).toEqual({
      ...user(0),
      groupsOverage: true,
    });
  });
});
