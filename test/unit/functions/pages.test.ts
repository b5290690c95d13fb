import { AuthError } from '../../../src/auth/errors';
import { errorPage } from '../../../src/functions/pages';

describe('error page', () => {
  const shown = (details?: string) =>
    errorPage(new AuthError('idp_error', 'log text', { details }), 'corr-1', '/api/auth/login');

  it.each([
    'access_denied: AADSTS65004: User declined to consent to access the app.',
    'access_denied: the user canceled the authentication',
    'access_denied',
  ])(
    'when the user cancelled at the sign-in page (%s), then it says so and offers to try again',
    (details) => {
      const html = shown(details);
      expect(html).toContain('<h1>Sign-in was cancelled</h1>');
      expect(html).toContain('>Try again</a>');
      expect(html).not.toContain('administrator');
      expect(html).toContain('<code id="reason-code">idp_error</code>');
    },
  );

  it('when the provider failed for another reason, then the page keeps the idp_error advice', () => {
    const html = shown('invalid_client: AADSTS7000215: Invalid client secret provided.');
    expect(html).toContain('<h1>Microsoft Entra ID did not sign you in</h1>');
    expect(html).toContain('>Sign in again</a>');
  });

  it('when the provider words are not shown (a flow of another browser), then no cancellation is guessed', () => {
    expect(shown(undefined)).toContain('<h1>Microsoft Entra ID did not sign you in</h1>');
  });
});
