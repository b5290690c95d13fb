import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { RecordKey } from '../ports/AuthStore';

/**
 * The token cache is sealed with a key only the user's browser holds: HKDF-SHA256 of the 256-bit
 * secret in the session cookie (the table keeps only its SHA-256, as the row key), then
 * AES-256-GCM with the record's key as associated data, so a sealed blob copied onto another
 * session's row does not open. A copy of the table alone decrypts nothing, and no encryption key
 * exists in settings or Key Vault.
 * @see https://datatracker.ietf.org/doc/html/rfc5869 (HKDF)
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf (GCM)
 */

const FORMAT_VERSION = 1;
const IV_BYTES = 12; // GCM's 96-bit nonce, random per write
const TAG_BYTES = 16;
const KEY_BYTES = 32;
/** Domain separation: this key is for the token cache and nothing else derived from the secret. */
const HKDF_SALT = Buffer.from('entra-functions-signin token cache');
const HKDF_INFO = Buffer.from('token-cache/v1 aes-256-gcm');

export function tokenCacheKey(sessionSecret: string): Buffer {
  const secret = Buffer.from(sessionSecret, 'base64url');
  return Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, KEY_BYTES));
}

function associatedData(session: RecordKey): Buffer {
  return Buffer.from(`token-cache\n${session.partition}\n${session.id}`);
}

/** version (1 byte) | IV (12) | ciphertext | tag (16) */
export function seal(plaintext: string, sessionSecret: string, session: RecordKey): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', tokenCacheKey(sessionSecret), iv);
  cipher.setAAD(associatedData(session));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return new Uint8Array(
    Buffer.concat([Buffer.of(FORMAT_VERSION), iv, ciphertext, cipher.getAuthTag()]),
  );
}

/** The plaintext, or undefined when the blob is not this session's (wrong key, tampered, other format). */
export function open(
  sealed: Uint8Array,
  sessionSecret: string,
  session: RecordKey,
): string | undefined {
  const bytes = Buffer.from(sealed);
  if (bytes.length < 1 + IV_BYTES + TAG_BYTES || bytes[0] !== FORMAT_VERSION) return undefined;
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const ciphertext = bytes.subarray(1 + IV_BYTES, bytes.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', tokenCacheKey(sessionSecret), iv);
    decipher.setAAD(associatedData(session));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
