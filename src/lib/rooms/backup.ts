/**
 * The owner's room backup: everything that makes a room the same room in another browser — its age
 * key (what bundles are sealed to) and its receipt-signing key (what the expert checks receipts
 * against) — in one file protected by a passphrase.
 *
 * The file is an age file (https://age-encryption.org/v1) with one scrypt recipient, ASCII-armored,
 * so standard tools open it: `age -d airlock-room.age` asks for the passphrase and prints the JSON.
 * Inside, each room's age identity is the `AGE-SECRET-KEY-1…` line age-keygen writes, and its receipt
 * key an unencrypted OpenSSH private key file, which `ssh-keygen -Y sign` and `airlock run --sign` use.
 */
import { Decrypter, Encrypter, armor } from 'age-encryption';
import { identityToRecipient } from 'age-encryption';
import { fingerprint, formatPrivateKey, parsePrivateKey, type SshPrivateKey } from '../crypto/index.ts';
import type { Expert, RoomPolicy } from './store.ts';

export const BACKUP_FORMAT = 'airlock-room-backup';
export const BACKUP_VERSION = 1;
/** age's own default: about 2 s of scrypt here, ~1 GB·s of work per guess for whoever steals the file. */
export const BACKUP_WORK_FACTOR = 18;
/** A passphrase shorter than this is refused: the backup holds private keys. */
export const MIN_PASSPHRASE = 10;

export type BackupErrorCode = 'weak-passphrase' | 'wrong-passphrase' | 'not-a-backup' | 'damaged' | 'newer-version';

export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** One room's identity as it travels in a backup. */
export interface RoomIdentity {
  name: string;
  /** When the room was made (ISO 8601). */
  created: string;
  /** `AGE-SECRET-KEY-1…` */
  identity: string;
  /** `age1…`, checked against the identity when the backup is opened. */
  recipient: string;
  /** The receipt-signing key, an OpenSSH private key file (ssh-ed25519). */
  receiptKey: string;
  /** The room's settings, when the backup was made by Airlock (a hand-made backup may omit them). */
  policy?: Partial<RoomPolicy>;
  experts?: Expert[];
  /** Names of the tables granted to the room (the tables themselves are not in a backup). */
  grants?: string[];
  archived?: boolean;
}

export interface RoomBackup {
  format: typeof BACKUP_FORMAT;
  version: number;
  created: string;
  rooms: RoomIdentity[];
}

/** A room identity with its receipt key parsed. */
export interface OpenedRoom extends RoomIdentity {
  receipt: SshPrivateKey;
  receiptFingerprint: string;
}

/** @throws {BackupError} `weak-passphrase` */
export function checkPassphrase(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE) {
    throw new BackupError(
      'weak-passphrase',
      `the backup passphrase must have at least ${MIN_PASSPHRASE} characters: the backup holds the room's private keys`,
    );
  }
}

/** The receipt key of a new room (an Ed25519 seed), as the file the backup carries. */
export function receiptKeyFile(key: SshPrivateKey): string {
  return formatPrivateKey({ ...key, comment: key.comment || 'airlock-receipt' });
}

/**
 * Seals rooms into a backup file (armored age, scrypt).
 * @param options.workFactor scrypt's log2 N (age's default 18; tests use less)
 * @throws {BackupError} `weak-passphrase`
 */
export async function sealBackup(
  rooms: RoomIdentity[],
  passphrase: string,
  options: { workFactor?: number; created?: Date } = {},
): Promise<string> {
  checkPassphrase(passphrase);
  const backup: RoomBackup = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    created: (options.created ?? new Date()).toISOString(),
    rooms,
  };
  const e = new Encrypter();
  e.setPassphrase(passphrase);
  e.setScryptWorkFactor(options.workFactor ?? BACKUP_WORK_FACTOR);
  return armor.encode(await e.encrypt(JSON.stringify(backup, null, 2) + '\n'));
}

/** True if the text looks like an armored age file (a backup) rather than a plain identity file. */
export function isBackupFile(text: string): boolean {
  return text.trimStart().startsWith('-----BEGIN AGE ENCRYPTED FILE-----');
}

/**
 * Opens a backup with its passphrase and checks every room in it: the identity gives the recipient
 * it names, and the receipt key is a valid ssh-ed25519 key.
 * @throws {BackupError} naming what is wrong.
 */
export async function openBackup(text: string, passphrase: string): Promise<{ created: string; rooms: OpenedRoom[] }> {
  if (!isBackupFile(text)) {
    throw new BackupError('not-a-backup', 'not an Airlock room backup (it should start with BEGIN AGE ENCRYPTED FILE)');
  }
  let bytes: Uint8Array;
  try {
    bytes = armor.decode(text);
  } catch {
    throw new BackupError('damaged', 'the backup file is damaged (its armor does not decode)');
  }
  const d = new Decrypter();
  d.addPassphrase(passphrase);
  let plain: string;
  try {
    plain = await d.decrypt(bytes, 'text');
  } catch (e) {
    const why = (e as Error).message ?? '';
    // age-encryption throws plain Errors; the header tells a passphrase file from others.
    if (!/scrypt/.test(new TextDecoder().decode(bytes.subarray(0, 200)))) {
      throw new BackupError(
        'not-a-backup',
        'this age file is not protected by a passphrase, so it is not a room backup',
      );
    }
    if (/work factor/.test(why)) throw new BackupError('damaged', `the backup cannot be opened: ${why}`);
    throw new BackupError('wrong-passphrase', 'the passphrase does not open this backup');
  }
  let backup: RoomBackup;
  try {
    backup = JSON.parse(plain) as RoomBackup;
  } catch {
    throw new BackupError('damaged', 'the backup opened, but what is inside is not JSON');
  }
  if (backup?.format !== BACKUP_FORMAT) {
    throw new BackupError(
      'not-a-backup',
      `the file opened, but it is not an Airlock room backup (format is not "${BACKUP_FORMAT}")`,
    );
  }
  if (typeof backup.version !== 'number' || backup.version > BACKUP_VERSION) {
    throw new BackupError('newer-version', `the backup has version ${backup.version}; update Airlock to restore it`);
  }
  if (!Array.isArray(backup.rooms) || !backup.rooms.length)
    throw new BackupError('damaged', 'the backup holds no room');
  const rooms: OpenedRoom[] = [];
  for (const [i, r] of backup.rooms.entries()) {
    const where = `room ${i + 1}${typeof r?.name === 'string' ? ` ("${r.name}")` : ''}`;
    if (typeof r?.identity !== 'string' || typeof r.receiptKey !== 'string' || typeof r.name !== 'string') {
      throw new BackupError('damaged', `${where} of the backup lacks its keys or name`);
    }
    let recipient: string;
    try {
      recipient = await identityToRecipient(r.identity);
    } catch {
      throw new BackupError('damaged', `${where}: its age identity is damaged`);
    }
    if (recipient !== r.recipient)
      throw new BackupError('damaged', `${where}: its identity does not match its recipient`);
    let receipt: SshPrivateKey;
    try {
      receipt = parsePrivateKey(r.receiptKey);
    } catch (e) {
      throw new BackupError('damaged', `${where}: its receipt key is unusable (${(e as Error).message})`);
    }
    rooms.push({ ...r, created: String(r.created ?? ''), receipt, receiptFingerprint: fingerprint(receipt.publicKey) });
  }
  return { created: String(backup.created ?? ''), rooms };
}
