import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { AuthError } from '../../../src/auth/errors';
import {
  aadstsCode,
  errorForLog,
  forDisplay,
  forLog,
  REDACTED,
  redactSecrets,
} from '../../../src/auth/redact';

/** What secrets look like here: random bytes as base64url (verifiers, codes), hex, base64. */
const secretArbitrary = fc
  .tuple(
    fc.uint8Array({ minLength: 12, maxLength: 96 }),
    fc.constantFrom<BufferEncoding>('base64url', 'hex', 'base64'),
  )
  .map(([bytes, encoding]) => Buffer.from(bytes).toString(encoding))
  // A random value always has a digit or a case change inside a word; a run of plain words
  // ("login.microsoftonline.com") is not a secret and is kept.
  .filter((secret) => /\d|[A-Za-z][A-Z]/.test(secret));

describe('redactSecrets', () => {
  it('when any secret-shaped value sits anywhere in any text, then it never survives', () => {
    fc.assert(
      fc.property(fc.string(), secretArbitrary, fc.string(), (before, secret, after) => {
        expect(forLog(before + secret + after, 100_000)).not.toContain(secret);
        expect(forDisplay(before + secret + after, 100_000)).not.toContain(secret);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['a JWT', 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc', 'eyJhbGciOiJIUzI1NiJ9'],
    ['a short client_secret=', 'client_secret=hunter2 rest', 'hunter2'],
    ['a code: in JSON', '{"code": "abc"}', 'abc'],
    ['an encoded code=', 'x?code%3Dshort1', 'short1'],
    ['an Entra client secret', 'bad secret Xq8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456', 'Xq8Q~aBc'],
  ])('when the text holds %s, then it is redacted', (_label, text, secret) => {
    expect(redactSecrets(text)).not.toContain(secret);
    expect(redactSecrets(text)).toContain(REDACTED);
  });

  it('when the text is an Entra description, then its words, AADSTS number and GUIDs stay', () => {
    const text =
      "AADSTS50011: The redirect URI 'https://app.contoso.com/api/auth/callback' does not match (consent_required).\r\nTrace ID: 0c8e6cd1-3b7a-4d8e-9f00-5a1b2c3d4e5f";
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('forLog', () => {
  it('when the text has line breaks and is long, then one capped line', () => {
    const line = forLog(`first\r\nsecond ${'word '.repeat(100)}`, 50);
    expect(line).not.toMatch(/[\r\n]/);
    expect(line.length).toBeLessThanOrEqual(53);
    expect(line.startsWith('first second')).toBe(true);
  });

  it('when a fresh 32-byte random value is logged, then it is redacted', () => {
    const value = randomBytes(32).toString('base64url');
    expect(forLog(`x ${value} y`)).toBe(`x ${REDACTED} y`);
  });
});

describe('aadstsCode', () => {
  it('when a description names an AADSTS number, then it is found', () => {
    expect(aadstsCode('AADSTS65004: User declined to consent.')).toBe('AADSTS65004');
    expect(aadstsCode('no number here')).toBeUndefined();
  });
});

describe('errorForLog', () => {
  it('when an AuthError is logged again, then its already-safe words stay; other errors are outside text', () => {
    const secret = randomBytes(32).toString('base64url');
    const failure = new AuthError(
      'storage_unavailable',
      'Table Storage write failed: 403 AuthorizationPermissionMismatch denied\r\nnext',
    );
    expect(errorForLog(failure)).toBe(
      'storage_unavailable: Table Storage write failed: 403 AuthorizationPermissionMismatch denied next',
    );
    expect(errorForLog(new Error(`client_secret=${secret}`))).not.toContain(secret);
  });
});
