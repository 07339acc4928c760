/**
 * The owner's room identity as one workflow: make it (both keys and their sealed backup), restore it
 * from a backup in another browser, and download a fresh backup later with the passphrase. The keys
 * themselves live in crypto/keystore.ts; the backup format in backup.ts.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  KeyError,
  fingerprint,
  formatPublicKey,
  generateOwnerKey,
  importRoomKey,
  loadOwnerIdentity,
  saveOwnerIdentity,
} from '../crypto/index.ts';
import { BackupError, isBackupFile, openBackup, receiptKeyFile, sealBackup, type RoomIdentity } from './backup.ts';

/** What the owner (and the page) may see of the room: public halves only. */
export interface RoomInfo {
  name: string;
  /** `age1…`: what experts seal bundles to. */
  recipient: string;
  /** The receipt-signing key's `SHA256:` fingerprint, which the expert finds in the invitation. */
  receiptFingerprint?: string;
  /** The receipt-signing key as an `ssh-ed25519 …` line (the invitation's `owner`). */
  receiptPublicKey?: string;
  /** True when a sealed backup holding both keys is kept (a new backup can be made with the passphrase). */
  backedUp: boolean;
  createdAt: number;
}

export async function roomInfo(): Promise<RoomInfo | undefined> {
  const id = await loadOwnerIdentity();
  if (!id) return undefined;
  return {
    name: id.name,
    recipient: id.recipient,
    ...(id.receiptPublicKey
      ? {
          receiptFingerprint: fingerprint(id.receiptPublicKey),
          receiptPublicKey: formatPublicKey(id.receiptPublicKey, 'airlock-receipt'),
        }
      : {}),
    backedUp: !!id.backup,
    createdAt: id.createdAt,
  };
}

/**
 * Makes the room: an age key and a receipt-signing key, stored non-extractable, and their backup
 * sealed under the passphrase — returned once for download and kept sealed for later backups.
 * @throws {KeyError} if a room exists; {BackupError} `weak-passphrase`
 */
export async function createRoom(input: {
  name?: string;
  passphrase: string;
  workFactor?: number;
}): Promise<{ room: RoomInfo; backup: string }> {
  if (await loadOwnerIdentity()) {
    throw new KeyError(
      'this browser already has a room key; delete it first (bundles sealed to it will no longer open)',
    );
  }
  const name = input.name?.trim() || 'room';
  const age = await generateOwnerKey();
  const seed = ed25519.utils.randomSecretKey();
  const receipt = { seed, publicKey: ed25519.getPublicKey(seed), comment: 'airlock-receipt' };
  const created = new Date();
  const identity: RoomIdentity = {
    name,
    created: created.toISOString(),
    identity: age.identity,
    recipient: age.recipient,
    receiptKey: receiptKeyFile(receipt),
  };
  const backup = await sealBackup([identity], input.passphrase, { workFactor: input.workFactor, created });
  await saveOwnerIdentity({ ...identity, receipt, backup, createdAt: created.getTime() });
  seed.fill(0);
  return { room: (await roomInfo())!, backup };
}

/**
 * Restores the room from a backup (both keys) or from a bare age identity file (the room key only,
 * as `airlock keygen` and earlier versions wrote it; the receipt key stays or is made anew).
 * @returns the room and whether its receipt key came from the file
 * @throws {BackupError} for a backup that does not open; {KeyError} for a bad identity file or
 * another room key in this browser without `replace`
 */
export async function restoreRoom(
  text: string,
  options: { passphrase?: string; replace?: boolean } = {},
): Promise<{ room: RoomInfo; receiptKey: 'restored' | 'kept' }> {
  if (!isBackupFile(text)) {
    await importRoomKey(text, { replace: options.replace });
    return { room: (await roomInfo())!, receiptKey: 'kept' };
  }
  if (!options.passphrase) throw new BackupError('wrong-passphrase', 'enter the passphrase the backup was made with');
  const { rooms } = await openBackup(text, options.passphrase);
  if (rooms.length !== 1) {
    throw new BackupError('damaged', `the backup holds ${rooms.length} rooms; this browser keeps one room`);
  }
  const r = rooms[0]!;
  await saveOwnerIdentity({
    name: r.name,
    identity: r.identity,
    recipient: r.recipient,
    receipt: r.receipt,
    backup: text,
    createdAt: Date.parse(r.created) || Date.now(),
    replace: options.replace,
  });
  r.receipt.seed.fill(0);
  return { room: (await roomInfo())!, receiptKey: 'restored' };
}

/**
 * A new backup file of the room, made from its sealed backup with the owner's passphrase (the keys
 * in use cannot be read out). The same passphrase protects the new file.
 * @throws {BackupError} `wrong-passphrase`, or `not-a-backup` when the room has no sealed backup
 */
export async function backupRoom(passphrase: string, options: { workFactor?: number } = {}): Promise<string> {
  const id = await loadOwnerIdentity();
  if (!id?.backup) {
    throw new BackupError(
      'not-a-backup',
      'this room has no backup of its receipt key (it was restored from a bare identity file or made by an earlier version)',
    );
  }
  const { rooms } = await openBackup(id.backup, passphrase);
  return sealBackup(
    rooms.map(({ receipt: _receipt, receiptFingerprint: _fp, ...r }) => ({ ...r, name: id.name })),
    passphrase,
    options,
  );
}
