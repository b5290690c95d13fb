import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Credential } from '../../config';
import { azureCredential } from '../identity/azureCredentials';
import type { MsalCredential } from './MsalIdentityProvider';

/** Audience of the managed identity token that Entra accepts as a federated credential. */
const TOKEN_EXCHANGE_SCOPE = 'api://AzureADTokenExchange/.default';

/**
 * How the app proves itself to Entra: a secret, a certificate, or (in Azure, no secret at all)
 * a user-assigned managed identity trusted by the app registration as a federated credential.
 * @see https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
 */
export function msalCredential(credential: Credential): MsalCredential {
  switch (credential.kind) {
    case 'secret':
      return { clientSecret: credential.clientSecret };
    case 'certificate':
      return { clientCertificate: certificateFromPem(credential.certificatePath) };
    case 'managedIdentity': {
      // ManagedIdentityCredential with this client id, never a credential chain.
      const identity = azureCredential(credential.managedIdentityClientId);
      // Called for every token request; @azure/identity caches the token until near expiry.
      return {
        clientAssertion: async () => {
          const token = await identity.getToken(TOKEN_EXCHANGE_SCOPE);
          if (!token) throw new Error('the managed identity returned no token');
          return token.token;
        },
      };
    }
  }
}

/** A PEM holding the certificate and its private key, as AUTH_CLIENT_CERTIFICATE_PATH (README, Settings). */
export function certificateFromPem(path: string): NonNullable<MsalCredential['clientCertificate']> {
  const pem = readFileSync(path, 'utf8');
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const privateKey =
    /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(
      pem,
    )?.[0];
  if (!certificate || !privateKey) {
    throw new Error(`${path} must hold both a CERTIFICATE and a PRIVATE KEY in PEM form`);
  }
  const x509 = new X509Certificate(certificate);
  return {
    thumbprintSha256: x509.fingerprint256.replace(/:/g, ''),
    privateKey,
    x5c: certificate,
  };
}
