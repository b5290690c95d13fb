import { Agent, request } from 'undici';

/**
 * Getting an access token for the app's API from the emulator (or Entra) the way an API caller
 * does, for `npm run api-call` and the tests: client credentials for a daemon.
 * @see https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 */

export interface TokenEndpointCall {
  /** `https://<host>/<tenant>`. */
  authority: string;
  /** The emulator's self-signed certificate, when not trusted through NODE_EXTRA_CA_CERTS. */
  ca?: Buffer;
}

export async function postTokenForm(
  call: TokenEndpointCall,
  form: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const dispatcher = call.ca ? new Agent({ connect: { ca: call.ca } }) : undefined;
  try {
    const response = await request(`${call.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      dispatcher,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    return {
      status: response.statusCode,
      body: (await response.body.json()) as Record<string, unknown>,
    };
  } finally {
    await dispatcher?.close();
  }
}

/** An app-only token for `api://<apiClientId>/.default`, as a daemon asks for one. */
export async function daemonAccessToken(
  call: TokenEndpointCall & { clientId: string; clientSecret: string; apiClientId: string },
  resource = `api://${call.apiClientId}`,
): Promise<string> {
  const { status, body } = await postTokenForm(call, {
    grant_type: 'client_credentials',
    client_id: call.clientId,
    client_secret: call.clientSecret,
    scope: `${resource}/.default`,
  });
  if (status !== 200 || typeof body.access_token !== 'string') {
    throw new Error(
      `token endpoint answered ${status}: ${String(body.error_description ?? body.error)}`,
    );
  }
  return body.access_token;
}
