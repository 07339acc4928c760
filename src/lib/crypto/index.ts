/** Keys and signatures: the owner's age identity, the expert's OpenSSH Ed25519 key. */
export {
  generateOwnerKey,
  formatIdentityFile,
  parseIdentityFile,
  isRecipient,
  KeyError,
  type OwnerKey,
} from './age.ts';
export {
  SshError,
  fingerprint,
  formatPublicKey,
  parsePublicKey,
  parsePrivateKey,
  formatPrivateKey,
  generateSshKey,
  publicKeyBlob,
  signSsh,
  signSshWith,
  verifySsh,
  type SshPublicKey,
  type SshPrivateKey,
} from './ssh.ts';
export { importAgeIdentity, importEd25519Seed, webCryptoSigner } from './webcrypto.ts';
export { ageHeader, encryptPayload, decryptAge, opensWith, type DecryptOptions } from './age-stream.ts';
export { AgeError, type AgeErrorCode } from './age-error.ts';
export {
  cipherLaneApi,
  cipherLanes,
  openChunks,
  openRun,
  sealChunks,
  sealRun,
  type ChunkLanes,
  type CipherLaneApi,
} from './lanes.ts';
