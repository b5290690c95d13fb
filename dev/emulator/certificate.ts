import { createPrivateKey, X509Certificate } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { generate } from 'selfsigned';

/**
 * The emulator's TLS certificate: self-signed for localhost, made on first start and reused.
 *
 * The same PEM is the server certificate and its own trust anchor, so other processes trust the
 * emulator through Node's standard NODE_EXTRA_CA_CERTS with verification left on (outbound TLS is
 * never weakened).
 */

export interface DevCertificate {
  certPath: string;
  keyPath: string;
}

const CERT_FILE = 'localhost-cert.pem';
const KEY_FILE = 'localhost-key.pem';
const LOCK_FILE = '.certificate.lock';
const VALIDITY_DAYS = 365;
const MIN_REMAINING_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;
/** A lock older than this was left by a crashed process; generation takes well under a second. */
const STALE_LOCK_MS = 30_000;
const LOCK_RETRY_MS = 25;
const REQUIRED_ALT_NAMES = ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1'];

/** Returns the certificate in `dir`, generating it when missing, broken or expiring within 7 days. */
export async function ensureDevCertificate(dir: string): Promise<DevCertificate> {
  const paths = { certPath: path.join(dir, CERT_FILE), keyPath: path.join(dir, KEY_FILE) };
  if (await isUsable(paths)) return paths;

  await fs.mkdir(dir, { recursive: true });
  // Test workers and dev scripts may start at once: one generates, the others wait and reuse it.
  const release = await acquireLock(path.join(dir, LOCK_FILE));
  try {
    if (await isUsable(paths)) return paths;
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 60_000),
      notAfterDate: new Date(Date.now() + VALIDITY_DAYS * DAY_MS),
      extensions: [
        // cA lets the very same PEM serve as a trust anchor in NODE_EXTRA_CA_CERTS.
        { name: 'basicConstraints', cA: true, critical: true },
        {
          name: 'keyUsage',
          digitalSignature: true,
          keyEncipherment: true,
          keyCertSign: true,
          critical: true,
        },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    });
    // Key first, certificate last: a reader that sees the new certificate also sees its key.
    await writeAtomically(paths.keyPath, pems.private, 0o600);
    await writeAtomically(paths.certPath, pems.cert, 0o644);
    return paths;
  } finally {
    await release();
  }
}

async function isUsable({ certPath, keyPath }: DevCertificate): Promise<boolean> {
  try {
    const [certPem, keyPem] = await Promise.all([
      fs.readFile(certPath, 'utf8'),
      fs.readFile(keyPath, 'utf8'),
    ]);
    const cert = new X509Certificate(certPem);
    const altNames = (cert.subjectAltName ?? '').split(', ');
    return (
      Date.parse(cert.validTo) - Date.now() > MIN_REMAINING_DAYS * DAY_MS &&
      Date.parse(cert.validFrom) <= Date.now() &&
      cert.ca &&
      REQUIRED_ALT_NAMES.every((name) => altNames.includes(name)) &&
      cert.checkPrivateKey(createPrivateKey(keyPem))
    );
  } catch {
    // Missing, unreadable or not PEM: generate a new one.
    return false;
  }
}

async function writeAtomically(file: string, content: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, content, { mode });
  await fs.rename(temporary, file);
}

async function acquireLock(lockPath: string): Promise<() => Promise<void>> {
  for (;;) {
    try {
      const handle = await fs.open(
        lockPath,
        fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY,
      );
      await handle.close();
      return () => fs.rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const stat = await fs.stat(lockPath).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > STALE_LOCK_MS) {
      await fs.rm(lockPath, { force: true });
      continue;
    }
    // The holder finishes in milliseconds and leaves no event to wait on across processes.
    await delay(LOCK_RETRY_MS);
  }
}
