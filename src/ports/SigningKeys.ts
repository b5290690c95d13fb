import type { KeyObject, webcrypto } from 'node:crypto';

/**
 * Finds the key that verifies a signed token (an ID token, a bearer access token) from its
 * protected header: the key function jose's `jwtVerify` takes. Restated here rather than taken from
 * jose so that the package's type declarations never load jose's, which TypeScript 4 (the Functions
 * quickstart's) cannot read.
 */
export type SigningKeys = (
  protectedHeader: SignedTokenHeader,
  token: SignedTokenParts,
) => Promise<VerificationKey>;

export interface SignedTokenHeader {
  alg: string;
  kid?: string;
  [parameter: string]: unknown;
}

export interface SignedTokenParts {
  protected?: string;
  payload: string | Uint8Array;
  signature: string;
}

export type VerificationKey = webcrypto.CryptoKey | KeyObject | Uint8Array;
