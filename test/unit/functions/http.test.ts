import { HttpRequest, InvocationContext } from '@azure/functions';
import { sessionCookie, clearCookie } from '../../../src/auth/cookies';
import { AuthError, REASONS, type ReasonCode } from '../../../src/auth/errors';
import { failureResponse, requestCookies, toFunctionsCookie } from '../../../src/functions/http';

function request(headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({
    method: 'GET',
    url: 'http://localhost:7071/api/auth/callback',
    headers,
  });
}

function context(): { ctx: InvocationContext; lines: string[] } {
  const lines: string[] = [];
  const ctx = new InvocationContext({
    invocationId: 'corr-123',
    functionName: 'test',
    logHandler: (level, ...args) => lines.push(`${level} ${args.join(' ')}`),
  });
  return { ctx, lines };
}

describe('cookie attributes', () => {
  it('when a cookie is set, then it is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/ and has no Domain', () => {
    const cookie = toFunctionsCookie(sessionCookie('b0000000001-01', 'x'.repeat(43), 3600));
    expect(cookie).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      maxAge: 3600,
    });
    expect(cookie.name.startsWith('__Host-')).toBe(true);
    expect(cookie.domain).toBeUndefined();
  });

  it('when a cookie is cleared, then it expires at once', () => {
    expect(toFunctionsCookie(clearCookie('__Host-authsession'))).toMatchObject({
      value: '',
      maxAge: 0,
      expires: new Date(0),
    });
  });

  it('when the Cookie header is oversized, then invalid_request', () => {
    expect(() => requestCookies(request({ cookie: `a=${'x'.repeat(9000)}` }))).toThrow(
      expect.objectContaining({ code: 'invalid_request' }),
    );
  });
});

describe('failure responses', () => {
  const codes = Object.keys(REASONS) as ReasonCode[];

  it.each(codes)(
    'when the code is %s, then the JSON body and status follow the reason table',
    (code) => {
      const { ctx, lines } = context();
      const response = failureResponse(
        new AuthError(code, 'why'),
        request({ accept: 'application/json' }),
        ctx,
      );
      expect(response.status).toBe(REASONS[code].status);
      expect(response.jsonBody).toEqual({
        error: code,
        message: expect.any(String),
        correlationId: 'corr-123',
      });
      expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store' });
      expect(lines.join('\n')).toContain(`${code} (correlation corr-123): why`);
    },
  );

  it.each([
    ['application/json', 'json'],
    ['text/html', 'page'],
  ])('when the cause asks for a pause, then Retry-After goes with the %s answer', (accept) => {
    const { ctx } = context();
    const response = failureResponse(
      new AuthError('idp_throttled', 'slow down', { retryAfterSeconds: 30 }),
      request({ accept }),
      ctx,
    );
    expect(response.status).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '30' });
  });

  it('when the cause gives no pause, then no Retry-After', () => {
    const { ctx } = context();
    const response = failureResponse(new AuthError('token_exchange_failed', 'x'), request(), ctx);
    expect(response.headers).not.toHaveProperty('Retry-After');
  });

  it('when the browser asks for HTML, then the page names the code, the correlation id and offers sign in again', () => {
    const { ctx } = context();
    const error = new AuthError('idp_error', 'x', {
      details: '<script>alert(1)</script> AADSTS50011',
    });
    error.returnTo = '/deep/link?a=1';
    const response = failureResponse(error, request({ accept: 'text/html' }), ctx);
    const body = String(response.body);
    expect(response.status).toBe(400);
    expect(body).toContain('idp_error');
    expect(body).toContain('corr-123');
    expect(body).toContain('/api/auth/login?returnTo=%2Fdeep%2Flink%3Fa%3D1');
    expect(body).toContain('AADSTS50011');
    expect(body).not.toContain('<script>alert(1)</script>');
    expect(response.headers).toMatchObject({
      'Content-Security-Policy': "frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    });
  });

  it('when the error is not an AuthError, then it is logged and rethrown for the host', () => {
    const { ctx, lines } = context();
    expect(() => failureResponse(new TypeError('bug'), request(), ctx)).toThrow('bug');
    expect(lines.join('\n')).toContain('unexpected error (correlation corr-123)');
  });
});
