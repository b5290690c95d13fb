import { createHash, randomBytes } from 'node:crypto';
import { postTokenForm } from '../../dev/apiTokens';
import type { BrowserClient } from './browserClient';
import { isCallback } from './signInSteps';
import { pickEmulatorUser } from './browserClient';
import type { Stack } from './stack';

/**
 * A user's access token for the app's API, as an SPA or another client gets one: the
 * authorization code flow with PKCE at the emulator (the user picked on its login page), then
 * the code redeemed at its token endpoint. Returns the whole token response.
 */
export async function userTokenResponse(
  client: BrowserClient,
  stack: Stack,
  username: string,
  scope: string,
): Promise<Record<string, unknown>> {
  const { emulator } = stack;
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `${stack.appOrigin}/api/auth/callback`;
  const authorize = new URL(`${emulator.browserOrigin}/${emulator.tenantId}/oauth2/v2.0/authorize`);
  authorize.search = new URLSearchParams({
    client_id: emulator.clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    scope: `openid profile ${scope}`,
    state: randomBytes(8).toString('hex'),
    nonce: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const { final: loginPage } = await client.follow(authorize.href);
  const picked = await pickEmulatorUser(client, loginPage, username);
  const { final } = picked.location
    ? await client.follow(picked.location, {}, { stopAt: isCallback })
    : { final: picked };
  const code = final.location ? new URL(final.location).searchParams.get('code') : null;
  if (!code) throw new Error(`no code: ${final.status} ${final.url}\n${final.body.slice(0, 300)}`);
  const { status, body } = await postTokenForm(
    { authority: emulator.authority, ca: stack.ca },
    {
      grant_type: 'authorization_code',
      client_id: emulator.clientId,
      client_secret: emulator.clientSecret,
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      scope: `openid profile ${scope}`,
    },
  );
  if (status !== 200) throw new Error(`token endpoint answered ${status}: ${JSON.stringify(body)}`);
  return body;
}
