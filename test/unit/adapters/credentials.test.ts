import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { certificateFromPem, msalCredential } from '../../../src/adapters/msal/credentials';

describe('msalCredential', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cred-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a secret is configured, then MSAL gets the secret', () => {
    expect(msalCredential({ kind: 'secret', clientSecret: 's3cret' })).toEqual({
      clientSecret: 's3cret',
    });
  });

  it('when a PEM with certificate and key is configured, then MSAL gets its SHA-256 thumbprint and key', async () => {
    const pems = await generate([{ name: 'commonName', value: 'app' }], { keySize: 2048 });
    const file = path.join(dir, 'app.pem');
    writeFileSync(file, `${pems.private}\n${pems.cert}`);
    const credential = msalCredential({ kind: 'certificate', certificatePath: file });
    const expected = new X509Certificate(pems.cert).fingerprint256.replace(/:/g, '');
    expect(credential.clientCertificate).toMatchObject({
      thumbprintSha256: expected,
      privateKey: expect.stringContaining('PRIVATE KEY-----'),
      x5c: expect.stringContaining('BEGIN CERTIFICATE'),
    });
  });

  it('when the PEM lacks the private key, then the error says what it must hold', async () => {
    const pems = await generate([{ name: 'commonName', value: 'app' }], { keySize: 2048 });
    const file = path.join(dir, 'cert-only.pem');
    writeFileSync(file, pems.cert);
    expect(() => certificateFromPem(file)).toThrow(
      /must hold both a CERTIFICATE and a PRIVATE KEY/,
    );
  });

  it('when a managed identity is configured, then MSAL gets a client assertion callback and no secret', () => {
    const credential = msalCredential({
      kind: 'managedIdentity',
      managedIdentityClientId: 'mi-client',
    });
    expect(typeof credential.clientAssertion).toBe('function');
    expect(credential.clientSecret).toBeUndefined();
  });
});
