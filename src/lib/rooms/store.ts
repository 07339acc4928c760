/**
 * The owner's rooms in IndexedDB (storage only; the workflows are in rooms.ts). A room is one
 * collaboration: its own age key (what its bundles are sealed to), its own receipt-signing key, its
 * policy, the experts it trusts, and the tables granted to it. Keys are non-extractable WebCrypto
 * keys; their one readable copy is the room's sealed backup (backup.ts).
 *
 * Version 1 of this database held one room as two records in `keys`; version 2 keeps rooms in
 * `rooms`, and the first read moves a version-1 room into it (see {@link migrateLegacyRoom}).
 */
import type { DBSchema } from 'idb';
import { DEFAULT_POLICY, type RunPolicy } from '../runs/index.ts';
import { database, MIGRATED_ROOM } from '../storage/index.ts';

/** What a room allows its runs; the invitation tells the expert, every receipt records it. */
export type RoomPolicy = RunPolicy;

/** An expert the room trusts: bundles signed by any other key are refused. */
export interface Expert {
  /** `SHA256:…` of their ssh-ed25519 signing key. */
  fingerprint: string;
  /** The owner's name for them. */
  name: string;
  pinnedAt: number;
}

export interface RoomRecord {
  id: string;
  name: string;
  createdAt: number;
  archived: boolean;
  /** `age1…` */
  recipient: string;
  roomKey: CryptoKey;
  receiptKey: CryptoKey;
  receiptPublicKey: Uint8Array;
  /** Both private keys sealed under the owner's passphrase; absent for keys no backup holds. */
  backup?: string;
  policy: RoomPolicy;
  experts: Expert[];
  /** Names of the owner's tables this room's invitation and runs may see. */
  grants: string[];
}

interface LegacyKey {
  id: string;
  recipient: string;
  key: CryptoKey;
  createdAt: number;
  publicKey?: Uint8Array;
  name?: string;
  backup?: string;
}

interface KeysDB extends DBSchema {
  /** Version 1: `room` and `receipt-signer`; emptied when they move into `rooms`. */
  keys: { key: string; value: LegacyKey };
  rooms: { key: string; value: RoomRecord };
}

export const KEYS_DB = 'airlock-keys';

const db = database<KeysDB>(KEYS_DB, 2, (d, old) => {
  if (old < 1) d.createObjectStore('keys', { keyPath: 'id' });
  if (old < 2) d.createObjectStore('rooms', { keyPath: 'id' });
});

/**
 * Moves a version-1 room (the `room` and `receipt-signer` records) into `rooms`, with the expert it
 * pinned and every table granted (in version 1 every bundle saw every table). Idempotent and safe
 * with two tabs: the move is one transaction that checks again that it has not happened.
 * @param legacy what version 1 kept elsewhere, read by the caller (other databases)
 */
export async function migrateLegacyRoom(legacy: () => Promise<{ pinned?: string; tables: string[] }>): Promise<void> {
  const pending = await db.run((d) => d.get('keys', 'room'));
  if (!pending) return;
  const { pinned, tables } = await legacy();
  await db.run(async (d) => {
    const tx = d.transaction(['keys', 'rooms'], 'readwrite');
    const keys = tx.objectStore('keys');
    const [room, signer] = await Promise.all([keys.get('room'), keys.get('receipt-signer')]);
    if (!room) return tx.done;
    let receiptKey = signer?.key;
    let receiptPublicKey = signer?.publicKey;
    if (!receiptKey || !receiptPublicKey) {
      // Version 1 made its receipt key on first use: a room that never signed gets one now.
      const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
      receiptKey = pair.privateKey;
      receiptPublicKey = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    }
    await tx.objectStore('rooms').put({
      id: MIGRATED_ROOM,
      name: room.name && room.name !== 'room' ? room.name : 'My room',
      createdAt: room.createdAt,
      archived: false,
      recipient: room.recipient,
      roomKey: room.key,
      receiptKey,
      receiptPublicKey,
      ...(room.backup ? { backup: room.backup } : {}),
      policy: { ...DEFAULT_POLICY },
      experts: pinned ? [{ fingerprint: pinned, name: 'expert', pinnedAt: room.createdAt }] : [],
      grants: tables,
    });
    await Promise.all([keys.delete('room'), keys.delete('receipt-signer')]);
    return tx.done;
  });
}

export async function getRoomRecords(): Promise<RoomRecord[]> {
  return (await db.run((d) => d.getAll('rooms'))).sort((a, b) => a.createdAt - b.createdAt);
}

export async function getRoomRecord(id: string): Promise<RoomRecord | undefined> {
  return db.run((d) => d.get('rooms', id));
}

/** Adds a room; refuses an id or a room key that exists (a room is never silently replaced). */
export async function addRoomRecord(room: RoomRecord): Promise<'added' | 'exists'> {
  return db.run(async (d) => {
    const tx = d.transaction('rooms', 'readwrite');
    const all = await tx.store.getAll();
    if (all.some((r) => r.id === room.id || r.recipient === room.recipient)) {
      tx.abort();
      await tx.done.catch(() => {});
      return 'exists';
    }
    await tx.store.add(room);
    await tx.done;
    return 'added';
  });
}

/**
 * Changes a room in one transaction: `change` gets the stored record and returns the new one.
 * @returns the new record, or undefined when there is no such room
 */
export async function updateRoomRecord(
  id: string,
  change: (r: RoomRecord) => RoomRecord,
): Promise<RoomRecord | undefined> {
  return db.run(async (d) => {
    const tx = d.transaction('rooms', 'readwrite');
    const r = await tx.store.get(id);
    if (!r) {
      await tx.done;
      return undefined;
    }
    const next = change(r);
    await tx.store.put(next);
    await tx.done;
    return next;
  });
}

/** Changes every room in one transaction (a table renamed or deleted changes every grant of it). */
export async function updateAllRoomRecords(change: (r: RoomRecord) => RoomRecord): Promise<void> {
  await db.run(async (d) => {
    const tx = d.transaction('rooms', 'readwrite');
    for (const r of await tx.store.getAll()) await tx.store.put(change(r));
    await tx.done;
  });
}

export async function deleteRoomRecord(id: string): Promise<void> {
  await db.run((d) => d.delete('rooms', id));
}
