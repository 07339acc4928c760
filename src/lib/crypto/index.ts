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
  generateSshKey,
  publicKeyBlob,
  signSsh,
  signSshWith,
  verifySsh,
  type SshPublicKey,
  type SshPrivateKey,
} from './ssh.ts';
export {
  createRoomKey,
  importRoomKey,
  loadRoomKey,
  deleteRoomKey,
  importAgeIdentity,
  ownerSigner,
  type RoomKey,
} from './keystore.ts';
export { ageHeader, encryptPayload, decryptAge } from './age-stream.ts';
export { useLanes, workerLanes, openChunks, sealChunks, serveLane, type ChunkLanes } from './lanes.ts';
