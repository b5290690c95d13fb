import { CryptoProvider } from '@azure/msal-node';
import { decodeJwt, type JWTPayload } from 'jose';
import { pickEmulatorUser } from '../support/browserClient';
import {
  REDIRECT_URI,
  SCOPES,
  MEGAN,
  GUID,
  emulator,
  frontDoor,
  serverRequest,
  msalApp,
  authorizeUrl,
  newBrowser,
  verifyIdToken,
  signIn,
  followToCallback,
  refreshTokenIn,
  runNode,
  useEmulator,
} from '../support/emulatorClients';

/** The local Entra ID emulator: the emulator's protocol: discovery, TLS, sign-in with msal-node, code and refresh token. Helpers: test/support/emulatorClients.ts. */

useEmulator();

describe('local Entra ID emulator', () => {
  test('when discovery is fetched, then it has Entra v2.0 shape, paths and RS256 keys', async () => {
    // Arrange
    const base = `https://localhost:${emulator.port}/${emulator.tenantId}`;
    const browserBase = frontDoor();
    const path = `/v2.0/.well-known/openid-configuration`;
    const browser = newBrowser();

    // Act
    const discovery = (await serverRequest(`${base}${path}`)).json;
    const jwks = (await serverRequest(String(discovery.jwks_uri))).json as {
      keys: Array<Record<string, unknown>>;
    };
    const viaFrontDoor = (await browser.request(`${browserBase}${path}`)).json();
    await browser.close();

    // Assert: the browser's endpoints on the http front door, the rest on https.
    expect(emulator.browserOrigin).toMatch(/^http:\/\/localhost:\d+$/);
    expect(emulator.issuer).toBe(`${base}/v2.0`);
    expect(discovery).toMatchObject({
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${browserBase}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${browserBase}/oauth2/v2.0/logout`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
    expect(viaFrontDoor).toEqual(discovery);
    expect(discovery.response_modes_supported).toContain('query');
    expect(discovery.response_types_supported).toContain('code');
    expect(discovery.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']),
    );
    expect(discovery.subject_types_supported).toEqual(['pairwise']);
    expect(discovery.claims_supported).toEqual(
      expect.arrayContaining(['sub', 'tid', 'oid', 'preferred_username', 'name', 'email', 'ver']),
    );
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }
  });

  test('when another Node process trusts the certificate via NODE_EXTRA_CA_CERTS, then it fetches discovery with TLS verification on', async () => {
    // Arrange
    const url = `${emulator.issuer}/.well-known/openid-configuration`;
    const script = `fetch(${JSON.stringify(url)}).then((r) => r.json()).then((d) => console.log(d.issuer), (e) => { console.log(e.cause?.code ?? e.message); process.exit(3); })`;
    const {
      NODE_EXTRA_CA_CERTS: _ignored,
      NODE_TLS_REJECT_UNAUTHORIZED: _neither,
      ...env
    } = process.env;

    // Act
    const [trusting, untrusting] = await Promise.all([
      runNode(script, { ...env, NODE_EXTRA_CA_CERTS: emulator.certPath }),
      runNode(script, env),
    ]);

    // Assert
    expect(trusting).toEqual({ code: 0, output: `${emulator.issuer}\n` });
    expect(untrusting.code).toBe(3);
    expect(untrusting.output).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });

  test('when msal-node signs a user in with code + PKCE and the browser uses the http front door, then the ID token is Entra-like and verifies', async () => {
    // Arrange: MSAL's calls go over https with the CA; the browser has no CA at all.
    const browser = newBrowser();

    // Act
    const { result, nonce } = await signIn(MEGAN, browser);
    const claims = await verifyIdToken(result.idToken);
    const cookies = await browser.jar.getCookies(`${frontDoor()}/oauth2/v2.0/authorize`);
    await browser.close();

    // Assert: every request of the browser went to the front door, never to https.
    expect(browser.requested.length).toBeGreaterThanOrEqual(3);
    expect(new Set(browser.requested.map((url) => url.origin))).toEqual(
      new Set([emulator.browserOrigin]),
    );
    // oidc-provider took the front door's requests for https ones: its cookies are Secure.
    expect(cookies.find((cookie) => cookie.key === 'entra_emulator_session')).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'lax',
    });
    const megan = result.idTokenClaims as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: emulator.issuer,
      aud: emulator.clientId,
      tid: emulator.tenantId,
      preferred_username: MEGAN,
      name: 'Megan Bowen',
      email: MEGAN,
      ver: '2.0',
      nonce,
      roles: ['Reader'],
    });
    expect(claims.oid).toMatch(GUID);
    expect(claims.groups).toHaveLength(150);
    // Entra's sub is pairwise: stable for this user and app, and not the object id.
    expect(claims.sub).toEqual(expect.any(String));
    expect(claims.sub).not.toBe(claims.oid);
    expect(claims.nbf).toBeLessThanOrEqual(claims.iat ?? 0);
    expect(claims.exp).toBeGreaterThan(claims.iat ?? 0);
    expect(megan.oid).toBe(claims.oid);
    // MSAL builds `<uid>.<utid>` only from client_info; without it, it falls back to sub.
    expect(result.account?.homeAccountId).toBe(`${claims.oid}.${emulator.tenantId}`);
    expect(result.account?.tenantId).toBe(emulator.tenantId);
  });

  test('when a code is redeemed directly, then the response is Entra-like: client_info, refresh token, no iss', async () => {
    // Arrange: the code exchange by hand, to see the raw token response MSAL parses.
    const browser = newBrowser();
    const app = msalApp();
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const authCodeUrl = await authorizeUrl(app, { codeChallenge: challenge });
    const loginPage = (await browser.follow(authCodeUrl)).final;
    const picked = await pickEmulatorUser(browser, loginPage, 'adele.vance@contoso.dev');
    const callback = await followToCallback(browser, picked);

    // Act
    const response = await serverRequest(`${emulator.authority}/oauth2/v2.0/token`, {
      form: {
        grant_type: 'authorization_code',
        client_id: emulator.clientId,
        client_secret: emulator.clientSecret,
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
        scope: SCOPES.join(' '),
      },
    });
    await browser.close();

    // Assert
    expect(callback.searchParams.has('iss')).toBe(false);
    expect(response.status).toBe(200);
    const body = response.json as Record<string, string>;
    const idToken = decodeJwt(body.id_token ?? '');
    const clientInfo = JSON.parse(Buffer.from(body.client_info ?? '', 'base64url').toString());
    expect(clientInfo).toEqual({ uid: idToken.oid, utid: emulator.tenantId });
    expect(body.refresh_token).toEqual(expect.any(String));
    expect(idToken.roles).toEqual(['Admin']);
  });

  test('when the refresh token of a sign-in is redeemed, then msal-node gets fresh tokens', async () => {
    // Arrange
    const { app, browser, result } = await signIn(MEGAN);
    await browser.close();
    const refreshToken = refreshTokenIn(app);

    // Act
    const refreshed = await msalApp().acquireTokenByRefreshToken({ refreshToken, scopes: SCOPES });
    const silent = await app.acquireTokenSilent({
      account: result.account!,
      scopes: SCOPES,
      forceRefresh: true,
    });

    // Assert
    expect(refreshed?.idToken).toEqual(expect.any(String));
    const claims = await verifyIdToken(refreshed?.idToken ?? '');
    expect(claims.oid).toBe((result.idTokenClaims as JWTPayload).oid);
    expect(refreshed?.account?.homeAccountId).toBe(result.account?.homeAccountId);
    expect(silent.accessToken).not.toBe(result.accessToken);
    expect(silent.account?.homeAccountId).toBe(result.account?.homeAccountId);
  });
});
