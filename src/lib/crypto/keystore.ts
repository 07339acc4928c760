/**
 * The owner's keys in the browser: the room key (a WebCrypto X25519 key, which age-encryption accepts
 * as an identity directly) and the receipt-signing key (Ed25519), both kept in IndexedDB as
 * non-extractable keys that page script can use but never read out. Their only readable copy is
 * the room's backup, sealed under the owner's passphrase when the room is made (rooms/backup.ts);
 * it is kept here in that sealed form so the owner can download it again with the passphrase.
 */
import type { DBSchema } from 'idb';
import { database } from '../storage/index.ts';
import { x25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad, bech32 } from '@scure/base';
import { parseIdentityFile, KeyError } from './age.ts';

interface KeyRecord {
  id: string;
  /** `room`: the age recipient; empty for the receipt signer. */
  recipient: string;
  key: CryptoKey;
  createdAt: number;
  /** `receipt-signer`: the Ed25519 public key. */
  publicKey?: Uint8Array;
  /** `room`: the room's name. */
  name?: string;
  /**
   * `room`: the room's backup as made or restored (armored age, scrypt): both private keys, readable
   * only with the owner's passphrase. Absent for keys made before backups held the receipt key.
   */
  backup?: string;
}

interface KeyDB extends DBSchema {
  /** `room`: the age key (with its recipient); `receipt-signer`: the Ed25519 key (with its public bytes). */
  keys: { key: string; value: KeyRecord };
}

const DB = 'airlock-keys';
const ROOM = 'room';

const db = database<KeyDB>(DB, 1, (d, old) => {
  if (old < 1) d.createObjectStore('keys', { keyPath: 'id' });
});

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

/** The owner's whole identity as stored: the room key and, when it has one, the receipt signer. */
export interface OwnerIdentity {
  name: string;
  recipient: string;
  createdAt: number;
  /** The receipt-signing public key, once there is one. */
  receiptPublicKey?: Uint8Array;
  /** The sealed backup of both keys, when the room has one (see rooms/backup.ts). */
  backup?: string;
}

/**
 * Stores the owner's identity: the age room key and (when given) the receipt-signing key, both as
 * non-extractable WebCrypto keys, in one transaction. Without a receipt key the stored one is kept.
 * Refuses to replace another room key unless `replace` (that would lock out every bundle sealed to it).
 * @throws {KeyError}
 */
export async function saveOwnerIdentity(input: {
  name?: string;
  identity: string;
  recipient: string;
  receipt?: { seed: Uint8Array; publicKey: Uint8Array };
  backup?: string;
  createdAt?: number;
  replace?: boolean;
}): Promise<RoomKey> {
  const existing = await loadRoomKey();
  if (existing && existing.recipient !== input.recipient && !input.replace) {
    throw new KeyError(
      `this browser has another room key (${existing.recipient.slice(0, 16)}…); replace it explicitly (bundles sealed to it will no longer open)`,
    );
  }
  const key = await importAgeIdentity(input.identity);
  const signer = input.receipt ? await importEd25519Seed(input.receipt.seed, input.receipt.publicKey) : undefined;
  const createdAt = input.createdAt ?? Date.now();
  await db.run(async (d) => {
    const tx = d.transaction('keys', 'readwrite');
    const old = await tx.store.get(ROOM);
    // A backup belongs to the keys it holds: the same room restored from an identity file keeps it.
    const backup = input.backup ?? (old?.recipient === input.recipient && !input.receipt ? old.backup : undefined);
    await tx.store.put({
      id: ROOM,
      recipient: input.recipient,
      key,
      createdAt,
      name: input.name ?? old?.name ?? 'room',
      ...(backup ? { backup } : {}),
    });
    if (signer)
      await tx.store.put({ id: SIGNER, recipient: '', key: signer, publicKey: input.receipt!.publicKey, createdAt });
    await tx.done;
  });
  return { recipient: input.recipient, key, createdAt };
}

/** The stored identity (never a private key), or undefined before a room exists. */
export async function loadOwnerIdentity(): Promise<OwnerIdentity | undefined> {
  return db.run(async (d) => {
    const [room, signer] = await Promise.all([d.get('keys', ROOM), d.get('keys', SIGNER)]);
    if (!room) return undefined;
    return {
      name: room.name ?? 'room',
      recipient: room.recipient,
      createdAt: room.createdAt,
      ...(signer?.publicKey ? { receiptPublicKey: signer.publicKey } : {}),
      ...(room.backup ? { backup: room.backup } : {}),
    };
  });
}

/**
 * Restores a room key from an age identity file (as written by airlock keygen or age-keygen, or by
 * Airlock before room backups). The receipt-signing key is not in such a file: the stored one is kept.
 */
export async function importRoomKey(backupText: string, options: { replace?: boolean } = {}): Promise<RoomKey> {
  const [k] = await parseIdentityFile(backupText);
  return saveOwnerIdentity({ identity: k!.identity, recipient: k!.recipient, replace: options.replace });
}

export async function loadRoomKey(): Promise<RoomKey | undefined> {
  return db.run(async (d) => {
    const v = await d.get('keys', ROOM);
    return v ? { recipient: v.recipient, key: v.key, createdAt: v.createdAt } : undefined;
  });
}

/** Forgets the owner's identity: the room key, the receipt-signing key and the sealed backup. */
export async function deleteRoomKey(): Promise<void> {
  return db.run(async (d) => {
    const tx = d.transaction('keys', 'readwrite');
    await Promise.all([tx.store.delete(ROOM), tx.store.delete(SIGNER), tx.done]);
  });
}

/**
 * The owner's receipt-signing key: a non-extractable WebCrypto Ed25519 key kept beside the room key.
 * Its public half goes into invitations so experts can check receipts. A room made with a backup has
 * it from the start; a room key restored from a bare identity file (or made before backups held the
 * receipt key) gets one here on first use, which no backup holds.
 */
export async function ownerSigner(): Promise<{ publicKey: Uint8Array; sign(data: Uint8Array): Promise<Uint8Array> }> {
  return db.run(async (d) => {
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
  });
}

const SIGNER = 'receipt-signer';
