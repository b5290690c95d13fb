import { FALLBACK_RETURN_TO, resolveReturnTo } from '../../../src/auth/returnTo';

const ALLOWED = ['https://app.contoso.test', 'http://localhost:3000'];

/** Each of these must fall back to "/": every one is a known way out of the origin. */
const HOSTILE: string[] = [
  '//evil.test',
  '//evil.test/path',
  '///evil.test',
  '////evil.test',
  '/\\evil.test',
  '\\\\evil.test',
  '\\/evil.test',
  '/\\/evil.test',
  'https:evil.test',
  'https:/evil.test',
  'http:evil.test',
  'https://evil.test',
  'http://evil.test/',
  'https://app.contoso.test.evil.test/',
  'https://app.contoso.test@evil.test/',
  'https://user:pass@app.contoso.test/',
  'https://evil.test#@app.contoso.test',
  'https://evil.test\\@app.contoso.test',
  'javascript:alert(1)',
  'JavaScript:alert(1)',
  ' javascript:alert(1)',
  'java\tscript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox(1)',
  'file:///etc/passwd',
  'ftp://evil.test',
  'mailto:a@evil.test',
  'evil.test',
  'evil.test/path',
  '%2F%2Fevil.test',
  '/%2F%2Fevil.test',
  '/%2fevil.test',
  '/%5Cevil.test',
  '/%5cevil.test',
  '/%252F%252Fevil.test',
  '/%25252F%25252Fevil.test',
  '/%09/evil.test',
  '/\t/evil.test',
  '/\n/evil.test',
  '/\r\n/evil.test',
  ' //evil.test',
  '//evil.test ',
  '\t//evil.test',
  '/ /evil.test',
  '/\u3000/evil.test',
  '/\u200b/evil.test',
  '/\u00a0/evil.test',
  '\u0000//evil.test',
  '/%E0%A4%A', // malformed percent-encoding
  '/%',
  'http://localhost:3001/', // allowed host, wrong port
  'https://localhost:3000/', // allowed host, wrong scheme
  'https://APP.contoso.test.:443/x', // trailing-dot host is another origin
  '/' + 'a'.repeat(5000),
  '/.//evil.test/x', // dot segments removed by URL parsing leave "//evil.test/x"
  '/%2e//evil.test',
  '/%2E%2E//evil.test',
  '/a/..//evil.test',
  '/a/b/../..//evil.test',
  '/..//evil.test',
  '/./\\evil.test',
];

const ACCEPTED: Array<[string, string]> = [
  ['/', '/'],
  ['/dashboard', '/dashboard'],
  ['/api/auth/me', '/api/auth/me'],
  ['/a/b?c=d&e=f#g', '/a/b?c=d&e=f#g'],
  ['/search?q=%2F%2Fnot-a-host', '/search?q=%2F%2Fnot-a-host'],
  ['/caf%C3%A9', '/caf%C3%A9'],
  ['/a/./b/../c', '/a/c'],
  ['https://app.contoso.test/x?y=1', 'https://app.contoso.test/x?y=1'],
  ['https://APP.contoso.test/x', 'https://app.contoso.test/x'],
  ['http://localhost:3000/', 'http://localhost:3000/'],
];

describe('resolveReturnTo', () => {
  it('has a corpus of at least 40 hostile inputs', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE.map((h) => [JSON.stringify(h), h]))(
    'when returnTo is %s, then it falls back to "/" and says why',
    (_label, hostile) => {
      const decision = resolveReturnTo(hostile, ALLOWED);
      expect(decision.returnTo).toBe(FALLBACK_RETURN_TO);
      expect(decision.rejected).toEqual(expect.any(String));
    },
  );

  it.each(ACCEPTED)('when returnTo is %s, then it is kept as %s', (input, expected) => {
    expect(resolveReturnTo(input, ALLOWED)).toEqual({ returnTo: expected });
  });

  it('when no origins are allowed, then an absolute URL of the app itself still falls back', () => {
    expect(resolveReturnTo('https://app.contoso.test/x', []).returnTo).toBe('/');
  });

  it('when returnTo is absent or empty, then it is "/" without a rejection', () => {
    expect(resolveReturnTo(undefined, ALLOWED)).toEqual({ returnTo: '/' });
    expect(resolveReturnTo('', ALLOWED)).toEqual({ returnTo: '/' });
  });
});
