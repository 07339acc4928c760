/**
 * The owner's room key in the browser: kept in IndexedDB as a non-extractable WebCrypto X25519
 * key, which page script can use to decrypt but never read out. The one chance to back it up is
 * when it is made (or imported): the caller gets the age identity file text once and it is not
 * stored anywhere. age-encryption accepts such a CryptoKey as an identity directly.
 */
import { openDB, type DBSchema } from 'idb';
import { x25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad, bech32 } from '@scure/base';
import { formatIdentityFile, generateOwnerKey, parseIdentityFile, KeyError } from './age.ts';

interface KeyDB extends DBSchema {
  /** `room`: the age key (with its recipient); `receipt-signer`: the Ed25519 key (with its public bytes). */
  keys: {
    key: string;
    value: { id: string; recipient: string; key: CryptoKey; createdAt: number; publicKey?: Uint8Array };
  };
}

const DB = 'airlock-keys';
const ROOM = 'room';

function db() {
  return openDB<KeyDB>(DB, 1, {
    upgrade(d, old) {
      if (old < 1) d.createObjectStore('keys', { keyPath: 'id' });
    },
  });
}

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

export interface RoomKey {
  recipient: string;
  key: CryptoKey;
  createdAt: number;
}

/**
 * Makes the room key, stores it, and returns the backup text — the only time it exists in
 * readable form. Refuses to replace an existing key (that would lock out every bundle sealed to it).
 * @throws {KeyError} if a room key exists already.
 */
export async function createRoomKey(): Promise<{ room: RoomKey; backup: string }> {
  if (await loadRoomKey())
    throw new KeyError(
      'this browser already has a room key; delete it first (bundles sealed to it will no longer open)',
    );
  const k = await generateOwnerKey();
  const room = await storeRoomKey(k.identity, k.recipient);
  return { room, backup: formatIdentityFile(k) };
}

/** Restores a room key from a backup file (as written by createRoomKey, airlock keygen or age-keygen). */
export async function importRoomKey(backupText: string, options: { replace?: boolean } = {}): Promise<RoomKey> {
  const [k] = await parseIdentityFile(backupText);
  const existing = await loadRoomKey();
  if (existing && existing.recipient !== k!.recipient && !options.replace) {
    throw new KeyError(
      `this browser has another room key (${existing.recipient.slice(0, 16)}…); replace it explicitly`,
    );
  }
  return storeRoomKey(k!.identity, k!.recipient);
}

async function storeRoomKey(identity: string, recipient: string): Promise<RoomKey> {
  const key = await importAgeIdentity(identity);
  const room = { recipient, key, createdAt: Date.now() };
  const d = await db();
  try {
    await d.put('keys', { id: ROOM, ...room });
  } finally {
    d.close();
  }
  return room;
}

export async function loadRoomKey(): Promise<RoomKey | undefined> {
  const d = await db();
  try {
    const v = await d.get('keys', ROOM);
    return v ? { recipient: v.recipient, key: v.key, createdAt: v.createdAt } : undefined;
  } finally {
    d.close();
  }
}

export async function deleteRoomKey(): Promise<void> {
  const d = await db();
  try {
    await d.delete('keys', ROOM);
  } finally {
    d.close();
  }
}

/**
 * The owner's receipt-signing key: a non-extractable WebCrypto Ed25519 key, made on first use and
 * kept beside the room key. Its public half goes into invitations so experts can check receipts.
 */
export async function ownerSigner(): Promise<{ publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> }> {
  const d = await db();
  try {
    let v = await d.get('keys', SIGNER);
    if (!v) {
      const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
      const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
      v = { id: SIGNER, recipient: '', publicKey: raw, key: pair.privateKey, createdAt: Date.now() };
      await d.put('keys', v);
    }
    const key = v.key;
    return {
      publicKey: v.publicKey!,
      sign: async (data) => new Uint8Array(await crypto.subtle.sign('Ed25519', key, data as Uint8Array<ArrayBuffer>)),
    };
  } finally {
    d.close();
  }
}

const SIGNER = 'receipt-signer';
