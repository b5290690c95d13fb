import { CryptoProvider } from '@azure/msal-node';
import { type JWTPayload } from 'jose';
import { parseForms, pickEmulatorUser } from '../support/browserClient';
import {
  REDIRECT_URI,
  POST_LOGOUT_REDIRECT_URI,
  SCOPES,
  MEGAN,
  emulator,
  frontDoor,
  msalApp,
  authorizeUrl,
  newBrowser,
  isRedirectUri,
  isPostLogoutUri,
  verifyIdToken,
  signIn,
  followToCallback,
  useEmulator,
} from '../support/emulatorClients';

/** The local Entra ID emulator: the emulator's browser side: sign-out, accounts, consent, the login page, prompt and PKCE. Helpers: test/support/emulatorClients.ts. */

useEmulator();

describe('local Entra ID emulator', () => {
  test('when the app sends the user to logout with logout_hint on the front door, then the session ends and the user returns to the app', async () => {
    // Arrange
    const { browser, result } = await signIn(MEGAN);
    const logoutUrl = new URL(`${frontDoor()}/oauth2/v2.0/logout`);
    logoutUrl.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_REDIRECT_URI);
    logoutUrl.searchParams.set('client_id', emulator.clientId);
    logoutUrl.searchParams.set(
      'logout_hint',
      String((result.idTokenClaims as JWTPayload).login_hint),
    );
    logoutUrl.searchParams.set('state', 'after-logout');
    const app = msalApp();
    const authorize = await authorizeUrl(app, {});
    // While signed in, authorize goes straight back to the app without a login page.
    const before = await browser.follow(authorize, {}, { stopAt: isRedirectUri });

    // Act
    const { final: loggedOut, hops } = await browser.follow(
      logoutUrl.href,
      {},
      {
        stopAt: isPostLogoutUri,
      },
    );
    const after = await browser.follow(authorize, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    expect(new URL(before.final.location ?? '').searchParams.has('code')).toBe(true);
    expect(hops).toHaveLength(1);
    expect(loggedOut.status).toBe(303);
    const target = new URL(loggedOut.location ?? '');
    expect(`${target.origin}${target.pathname}`).toBe(POST_LOGOUT_REDIRECT_URI);
    expect(target.searchParams.get('state')).toBe('after-logout');
    expect(after.final.status).toBe(200);
    expect(after.final.body).toContain('<title>Sign in – Entra ID emulator</title>');
    expect(new Set(browser.requested.map((url) => url.origin))).toEqual(
      new Set([emulator.browserOrigin]),
    );
  });

  test('when logout carries an id_token_hint, with or without an emulator session, then it redirects to the app', async () => {
    // Arrange
    const { browser, result } = await signIn('alex.wilber@contoso.dev');
    const logoutUrl = new URL(`${frontDoor()}/oauth2/v2.0/logout`);
    logoutUrl.searchParams.set('post_logout_redirect_uri', POST_LOGOUT_REDIRECT_URI);
    logoutUrl.searchParams.set('id_token_hint', result.idToken);
    const stranger = newBrowser();

    // Act
    const signedIn = await browser.follow(logoutUrl.href, {}, { stopAt: isPostLogoutUri });
    const noSession = await stranger.follow(logoutUrl.href, {}, { stopAt: isPostLogoutUri });
    await Promise.all([browser.close(), stranger.close()]);

    // Assert
    for (const { final } of [signedIn, noSession]) {
      expect(final.status).toBe(303);
      expect(final.location).toBe(POST_LOGOUT_REDIRECT_URI);
    }
  });

  test('when a signed-in browser asks for select_account, then the user can switch accounts', async () => {
    // Arrange
    const { browser } = await signIn(MEGAN);

    // Act
    const { result } = await signIn('adele.vance@contoso.dev', browser);
    await browser.close();

    // Assert
    const claims = await verifyIdToken(result.idToken);
    expect(claims.preferred_username).toBe('adele.vance@contoso.dev');
    expect(claims.roles).toEqual(['Admin']);
  });

  test('when a signed-in user is asked for more scopes, then consent is given without a page', async () => {
    // Arrange: the session's grant covers openid and profile only.
    const browser = newBrowser();
    const narrow = await authorizeUrl(msalApp(), { scopes: ['openid', 'profile'] });
    const loginPage = (await browser.follow(narrow)).final;
    await followToCallback(browser, await pickEmulatorUser(browser, loginPage, MEGAN));
    const app = msalApp();
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const wide = await authorizeUrl(app, { codeChallenge: challenge });

    // Act
    const { final, hops } = await browser.follow(wide, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    expect(hops.every((hop) => hop.status === 302 || hop.status === 303)).toBe(true);
    const code = new URL(final.location ?? '').searchParams.get('code') ?? '';
    const result = await app.acquireTokenByCode({
      code,
      redirectUri: REDIRECT_URI,
      scopes: SCOPES,
      codeVerifier: verifier,
    });
    expect(result.idTokenClaims).toMatchObject({ email: MEGAN });
  });

  test('when the user cancels on the login page, then the app gets access_denied like from Entra', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = await authorizeUrl(msalApp(), { state: 'cancelled-flow' });
    const loginPage = (await browser.follow(authorize)).final;

    // Act
    const cancelled = await browser.submitForm(loginPage, (form) => form.text === 'Cancel');
    const callback = await followToCallback(browser, cancelled);
    await browser.close();

    // Assert
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('error_description')).toMatch(/^AADSTS65004/);
    expect(callback.searchParams.get('state')).toBe('cancelled-flow');
  });

  test('when login_hint names a test user, then the login page offers that user first', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = await authorizeUrl(msalApp(), { loginHint: 'ALEX.WILBER@contoso.dev' });

    // Act
    const { final: loginPage } = await browser.follow(authorize);
    await browser.close();

    // Assert
    const forms = parseForms(loginPage.body, loginPage.url);
    expect(forms.map((form) => form.fields.username)).toEqual([
      'alex.wilber@contoso.dev',
      'adele.vance@contoso.dev',
      'megan.bowen@contoso.dev',
      'nestor.wilke@contoso.dev',
      'pradeep.gupta@fabrikam.dev',
      undefined, // Cancel
    ]);
    expect(loginPage.body).toMatch(/<button type="submit" autofocus>Alex Wilber<\/button>/);
  });

  test('when prompt=none finds no emulator session, then the app gets login_required', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = await authorizeUrl(msalApp(), { prompt: 'none', state: 'silent' });

    // Act
    const { final } = await browser.follow(authorize, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    const callback = new URL(final.location ?? '');
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('error')).toBe('login_required');
    expect(callback.searchParams.get('state')).toBe('silent');
  });

  test('when an authorization request comes without PKCE, then the app gets invalid_request', async () => {
    // Arrange
    const browser = newBrowser();
    const authorize = new URL(`${frontDoor()}/oauth2/v2.0/authorize`);
    authorize.search = new URLSearchParams({
      client_id: emulator.clientId,
      response_type: 'code',
      response_mode: 'query',
      redirect_uri: REDIRECT_URI,
      scope: SCOPES.join(' '),
      state: 'no-pkce',
    }).toString();

    // Act
    const { final } = await browser.follow(authorize.href, {}, { stopAt: isRedirectUri });
    await browser.close();

    // Assert
    const callback = new URL(final.location ?? '');
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
  });
});
