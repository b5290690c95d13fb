import fc from 'fast-check';
import type { RawRequest } from '../support/rawHttp';

/**
 * Generators of hostile HTTP requests for every entry point: methods, paths, query
 * parameters, cookies and headers, from well-formed to bytes no browser would send.
 * `known` holds real values minted by the test (a live flow's state and cookie, a session
 * cookie), so that generated requests also reach the checks behind the first ones.
 */

export interface KnownValues {
  port: number;
  /** Live flows of one browser: the state and the flow cookie of each. */
  flows: { state: string; cookie: [string, string] }[];
  sessionCookie: [string, string];
}

/** Present once in `oneIn` cases. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, oneIn = 8) =>
  fc.oneof(
    { weight: oneIn - 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: arbitrary },
  );

const ENTRY_POINTS = [
  '/api/auth/login',
  '/api/auth/callback',
  '/api/auth/me',
  '/api/auth/logout',
  '/api/demo',
  '/api/hello',
];
const QUERY_NAMES = [
  'returnTo',
  'prompt',
  'login_hint',
  'domain_hint',
  'state',
  'code',
  'error',
  'error_description',
  'session_state',
];

/** Text of every kind: unicode, control characters, huge, and the classics of web attacks. */
const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('a', '%', '/', '\\', '.', '\u0000', '\r', '\n', ' ', ';', '=', ','),
    maxLength: 60,
  }),
  fc.integer({ min: 200, max: 10_000 }).map((n) => 'x'.repeat(n)),
  fc.constantFrom(
    '//evil.example',
    '/\\evil.example',
    'https:evil.example',
    'javascript:alert(1)',
    '%E0%A4%A',
    '%00',
    '../../etc/passwd',
    '<script>alert(1)</script>',
    'b0000000000-00.AAAAAAAAAAAAAAAAAAAAAA',
    '💥'.repeat(50),
    '',
  ),
);

/** UTF-8 percent-encoding that never throws (lone surrogates become U+FFFD). */
const percentEncode = (value: string) =>
  [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');

/** Percent-encodes most of the time, and sometimes sends the characters raw. */
const encoded = (text: fc.Arbitrary<string>) =>
  fc
    .tuple(text, fc.nat(4))
    .map(([value, raw]) => (raw === 0 ? value.replace(/[\s#]/g, '') : percentEncode(value)));

function queryArbitrary(known: KnownValues) {
  const name = fc.oneof(fc.constantFrom(...QUERY_NAMES), encoded(fc.string({ maxLength: 10 })));
  const value = fc.oneof(
    encoded(hostileText),
    fc.constantFrom(...known.flows.map((f) => percentEncode(f.state))),
  );
  return fc
    .array(fc.tuple(name, value), { maxLength: 6 })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([n, v]) => `${n}=${v}`).join('&')}`));
}

function cookieArbitrary(known: KnownValues) {
  const name = fc.oneof(
    fc.constantFrom('__Host-authsession', '__Host-authflow-', '__Host-authflow-abcdefabcdef'),
    fc.string({ maxLength: 20 }).map((s) => `__Host-authflow-${s}`),
    fc.string({ maxLength: 12 }),
  );
  const pair = fc.oneof(
    fc.tuple(name, encoded(hostileText)),
    fc.constantFrom(...known.flows.map((f) => f.cookie)),
    fc.constant(known.sessionCookie),
  );
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .array(pair, { maxLength: 10 })
        .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 8000, max: 12_000 }).map((n) => `a=${'x'.repeat(n)}`),
    },
  );
}

function hostArbitrary(port: number) {
  return fc.oneof(
    { weight: 16, arbitrary: fc.constant(`localhost:${port}`) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        `127.0.0.1:${port}`,
        `[::1]:${port}`,
        'evil.example',
        `u@localhost:${port}`,
        `localhost:${port}@evil.example`,
        `LOCALHOST:${port}`,
        `localhost.:${port}`,
        'localhost:99999',
        '',
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
  );
}

const optionalHeader = (name: string, value: fc.Arbitrary<string>) =>
  fc.option(
    value.map((v): [string, string] => [name, v]),
    { nil: undefined },
  );

/** Anything at any entry point. */
function freeFormRequest(known: KnownValues): fc.Arbitrary<RawRequest> {
  const path = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...ENTRY_POINTS) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...ENTRY_POINTS), fc.constantFrom('/', '//', '%2F', '/..', ';x'))
        .map(([p, s]) => p.toUpperCase() + s),
    },
  );
  const method = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('GET', 'POST') },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'HEAD',
        'PUT',
        'DELETE',
        'OPTIONS',
        'PATCH',
        'TRACE',
        'BREW',
        'get',
      ),
    },
  );
  return fc
    .record({
      method,
      path,
      query: queryArbitrary(known),
      host: fc.option(hostArbitrary(known.port), { nil: undefined, freq: 20 }),
      cookie: fc.option(cookieArbitrary(known), { nil: undefined, freq: 3 }),
      extra: fc.tuple(
        optionalHeader(
          'x-forwarded-proto',
          fc.constantFrom('https', 'http', 'https, http', 'HTTPS', 'gopher', ''),
        ),
        optionalHeader(
          'origin',
          fc.constantFrom(`http://localhost:${known.port}`, 'null', 'https://evil.example', ''),
        ),
        optionalHeader('sec-fetch-site', fc.constantFrom('same-origin', 'cross-site', 'none', 'x')),
        optionalHeader('accept', fc.constantFrom('application/json', 'text/html', '*/*', '\u00ff')),
        optionalHeader(
          'x-forwarded-host',
          fc.constantFrom('evil.example', `localhost:${known.port}`),
        ),
      ),
      body: fc.option(fc.string({ maxLength: 200 }), { nil: undefined, freq: 4 }),
    })
    .map(({ method, path, query, host, cookie, extra, body }) => ({
      method,
      target: path + query,
      // Line breaks would only split the request into others; every other byte is kept.
      headers: [
        ...(host === undefined ? [] : [['host', host] as [string, string]]),
        ...(cookie === undefined ? [] : [['cookie', cookie] as [string, string]]),
        ...extra.filter((h): h is [string, string] => h !== undefined),
      ].map(([name, value]): [string, string] => [name, value.replace(/[\r\n]/g, '')]),
      body,
    }));
}

const localHost = (known: KnownValues): [string, string] => ['host', `localhost:${known.port}`];

/**
 * Well-formed HTTP with the live flow or session, so that hostile values reach the checks
 * behind the first ones: the code redemption, the consumed flow, the session lookup, logout.
 */
function targetedRequest(known: KnownValues): fc.Arbitrary<RawRequest> {
  const [sessionName, sessionValue] = known.sessionCookie;
  const callback = fc
    .record({
      flow: fc.constantFrom(...known.flows),
      code: fc.option(encoded(hostileText), { nil: undefined, freq: 8 }),
      // Rare: an error consumes the flow, and the deeper checks need it unconsumed.
      error: rarely(encoded(hostileText), 20),
      description: rarely(encoded(hostileText), 2),
      ownCookie: fc.nat(5),
      cookieValue: encoded(hostileText),
      withSession: fc.boolean(),
    })
    .map(({ flow, code, error, description, ownCookie, cookieValue, withSession }): RawRequest => {
      const query = [
        `state=${flow.state}`,
        ...(code === undefined ? [] : [`code=${code}`]),
        ...(error === undefined ? [] : [`error=${error}`]),
        ...(description === undefined ? [] : [`error_description=${description}`]),
      ].join('&');
      const [flowName, flowValue] = flow.cookie;
      const cookies = [`${flowName}=${ownCookie > 0 ? flowValue : cookieValue}`];
      if (withSession) cookies.push(`${sessionName}=${sessionValue}`);
      return {
        method: 'GET',
        target: `/api/auth/callback?${query}`,
        headers: [localHost(known), ['cookie', cookies.join('; ')]],
      };
    });
  const session = fc
    .record({
      target: fc.constantFrom('/api/auth/me', '/api/hello', '/api/auth/logout', '/api/demo'),
      method: fc.constantFrom('GET', 'POST'),
      value: fc.oneof(
        fc.constant(sessionValue),
        fc.constant(`${sessionValue}x`),
        encoded(hostileText),
        fc
          .tuple(fc.nat(sessionValue.length - 1), fc.constantFrom('A', '.', '-', '%00'))
          .map(([i, c]) => sessionValue.slice(0, i) + c + sessionValue.slice(i + 1)),
      ),
      origin: fc.constantFrom(`http://localhost:${known.port}`, 'https://evil.example', 'null'),
    })
    .map(({ target, method, value, origin }): RawRequest => ({
      method,
      target,
      headers: [localHost(known), ['cookie', `${sessionName}=${value}`], ['origin', origin]],
    }));
  const login = fc
    .record({
      returnTo: encoded(hostileText),
      prompt: fc.option(encoded(hostileText), { nil: undefined }),
      hint: fc.option(encoded(hostileText), { nil: undefined }),
      jar: cookieArbitrary(known),
    })
    .map(({ returnTo, prompt, hint, jar }): RawRequest => ({
      method: 'GET',
      target: `/api/auth/login?returnTo=${returnTo}${prompt === undefined ? '' : `&prompt=${prompt}`}${hint === undefined ? '' : `&login_hint=${hint}&domain_hint=${hint}`}`,
      headers: [localHost(known), ['cookie', jar.replace(/[\r\n]/g, '')]],
    }));
  return fc.oneof(callback, session, login);
}

export function requestArbitrary(known: KnownValues): fc.Arbitrary<RawRequest> {
  return fc.oneof(freeFormRequest(known), targetedRequest(known));
}
