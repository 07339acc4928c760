/**
 * The owner's private keys as non-extractable WebCrypto keys: page script can decrypt and sign with
 * them but never read them out. age-encryption accepts such an X25519 key as an identity directly;
 * the Ed25519 key signs receipts through `signSshWith`. Where they are kept is lib/rooms' business.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad, bech32 } from '@scure/base';
import { KeyError } from './age.ts';

/** Turns an `AGE-SECRET-KEY-1…` identity into a non-extractable WebCrypto key. */
export async function importAgeIdentity(identity: string): Promise<CryptoKey> {
  let scalar: Uint8Array;
  try {
    const { prefix, bytes } = bech32.decodeToBytes(identity.toLowerCase());
    if (prefix !== 'age-secret-key-' || bytes.length !== 32) throw new Error();
    scalar = bytes;
  } catch {
    throw new KeyError('not an age X25519 identity (AGE-SECRET-KEY-1…)');
  }
  const jwk: JsonWebKey = {
    kty: 'OKP',
    crv: 'X25519',
    d: base64urlnopad.encode(scalar),
    x: base64urlnopad.encode(x25519.getPublicKey(scalar)),
  };
  scalar.fill(0);
  return crypto.subtle.importKey('jwk', jwk, { name: 'X25519' }, false, ['deriveBits']);
}

/** Turns an Ed25519 seed into a non-extractable WebCrypto signing key. */
export async function importEd25519Seed(seed: Uint8Array, publicKey: Uint8Array): Promise<CryptoKey> {
  const jwk: JsonWebKey = {
    kty: 'OKP',
    crv: 'Ed25519',
    d: base64urlnopad.encode(seed),
    x: base64urlnopad.encode(publicKey),
  };
  return crypto.subtle.importKey('jwk', jwk, { name: 'Ed25519' }, false, ['sign']);
}

/** Signs through a non-extractable Ed25519 key (the shape `signReceiptWith` takes). */
export function webCryptoSigner(
  key: CryptoKey,
  publicKey: Uint8Array,
): { publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> } {
  return {
    publicKey,
    sign: async (data) => new Uint8Array(await crypto.subtle.sign('Ed25519', key, data as Uint8Array<ArrayBuffer>)),
  };
}
