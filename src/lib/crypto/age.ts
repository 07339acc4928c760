/**
 * The owner's room key: an age X25519 identity (https://age-encryption.org/v1), through the
 * `age-encryption` package. Identity files are written exactly as `age-keygen` writes them, so either
 * tool can read the other's.
 */
import { generateX25519Identity, identityToRecipient } from 'age-encryption';

export class KeyError extends Error {
  override name = 'KeyError';
}

export interface OwnerKey {
  /** `AGE-SECRET-KEY-1…` */
  identity: string;
  /** `age1…`: what the owner shares; the room's sharing identifier. */
  recipient: string;
}

export async function generateOwnerKey(): Promise<OwnerKey> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The identity file text, as age-keygen writes it. */
export function formatIdentityFile(key: OwnerKey, created = new Date()): string {
  const stamp = created.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `# created: ${stamp}\n# public key: ${key.recipient}\n${key.identity}\n`;
}

/**
 * Reads the identities from an age identity file (`#` comments and blank lines ignored).
 * @throws {KeyError} when the file holds no X25519 identity.
 */
export async function parseIdentityFile(text: string): Promise<OwnerKey[]> {
  const keys: OwnerKey[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (!line.startsWith('AGE-SECRET-KEY-1'))
      throw new KeyError(
        `not an age identity file: unexpected line "${line.slice(0, 24)}…"; use a file made by airlock keygen or age-keygen`,
      );
    try {
      keys.push({ identity: line, recipient: await identityToRecipient(line) });
    } catch {
      throw new KeyError('the age identity in the file is damaged');
    }
  }
  if (!keys.length) throw new KeyError('the identity file holds no key; make one with airlock keygen -o owner.key');
  return keys;
}

/** True if `s` looks like an age X25519 recipient. Full validation happens when encrypting. */
export function isRecipient(s: string): boolean {
  return /^age1[02-9ac-hj-np-z]{58}$/.test(s);
}
