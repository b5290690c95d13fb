import {
  FLOW_COOKIE_PREFIX,
  MAX_FLOW_COOKIES,
  evictFlowCookies,
  flowCookie,
  flowCookieLifetimeSeconds,
} from '../../../src/auth/cookies';

const now = new Date('2026-12-01T12:00:00Z');
const lifetime = flowCookieLifetimeSeconds(600);
const secret = 'S'.repeat(22);

function jarWith(issuedAt: Date[], extra: Record<string, string> = {}): Record<string, string> {
  const jar: Record<string, string> = { ...extra };
  issuedAt.forEach((at, i) => {
    const cookie = flowCookie(`flow${String(i).padStart(8, '0')}abcdefghij`, secret, at, lifetime);
    jar[cookie.name] = cookie.value;
  });
  return jar;
}
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000);
const cleared = (jar: Record<string, string>) =>
  evictFlowCookies(jar, now, lifetime).map((c) => {
    expect(c.maxAgeSeconds).toBe(0);
    return c.name;
  });

describe('evictFlowCookies', () => {
  it('when fewer than the maximum are held, then none is cleared', () => {
    expect(cleared(jarWith([secondsAgo(10), secondsAgo(20)]))).toEqual([]);
  });

  it('when the maximum is held, then the oldest plausible one goes, so one more fits', () => {
    const jar = jarWith(Array.from({ length: MAX_FLOW_COOKIES }, (_, i) => secondsAgo(100 - i)));
    expect(cleared(jar)).toEqual([`${FLOW_COOKIE_PREFIX}flow00000000`]);
  });

  it('when planted cookies claim far-future or impossible old issue times, then they all go first and the real one stays', () => {
    const future = new Date(now.getTime() + 10 * 365 * 86400 * 1000);
    const jar = jarWith([
      secondsAgo(500), // the real tab
      ...Array.from({ length: 6 }, () => future),
      secondsAgo(lifetime + 3600), // older than a flow cookie lives
    ]);
    const names = cleared(jar);
    expect(names).toHaveLength(7);
    expect(names).not.toContain(`${FLOW_COOKIE_PREFIX}flow00000000`);
  });

  it('when a cookie is named like a flow cookie but malformed, then it is cleared even below the maximum', () => {
    const jar = jarWith([secondsAgo(10)], { [`${FLOW_COOKIE_PREFIX}zzz`]: 'garbage' });
    expect(cleared(jar)).toEqual([`${FLOW_COOKIE_PREFIX}zzz`]);
  });

  it('when a malformed flow cookie has a name no Set-Cookie header can carry, then it is left alone', () => {
    const jar = { [`${FLOW_COOKIE_PREFIX}a b`]: '1', [`${FLOW_COOKIE_PREFIX}\u00e9`]: '2' };
    expect(cleared(jar)).toEqual([]);
  });

  it('when hundreds of malformed cookies are planted, then a bounded number is cleared per response', () => {
    const extra = Object.fromEntries(
      Array.from({ length: 300 }, (_, i) => [`${FLOW_COOKIE_PREFIX}x${i}`, 'bad']),
    );
    expect(cleared(jarWith([], extra)).length).toBeLessThanOrEqual(2 * MAX_FLOW_COOKIES);
  });

  it('when a cookie was issued by an instance whose clock runs a little ahead, then it is kept', () => {
    const jar = jarWith([new Date(now.getTime() + 60_000)]);
    expect(cleared(jar)).toEqual([]);
  });
});
