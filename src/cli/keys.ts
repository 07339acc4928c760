/** Reading key files for commands, with errors that say which file and what to do. */
import { existsSync, readFileSync } from 'node:fs';
import { isRecipient, parseIdentityFile, parsePrivateKey, SshError, KeyError } from '../lib/crypto/index.ts';
import { CliError, askHidden } from './io.ts';

export function readText(path: string, what: string): string {
  mustExist(path, what);
  return readFileSync(path, 'utf8');
}

/** A clear message for a missing input file, before anything reads it. */
export function mustExist(path: string, what: string): void {
  if (!existsSync(path)) throw new CliError(`${what} ${path} not found`);
}

export async function readIdentity(path: string): Promise<string> {
  try {
    return (await parseIdentityFile(readText(path, 'identity file')))[0]!.identity;
  } catch (e) {
    if (e instanceof KeyError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}

export function readSigningKey(path: string) {
  try {
    return parsePrivateKey(readText(path, 'signing key'));
  } catch (e) {
    if (e instanceof SshError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}

/** `--to`: an `age1…` recipient, or a room invitation file that names one. */
export function readRecipient(to: string): string {
  if (isRecipient(to)) return to;
  if (!existsSync(to))
    throw new CliError(`--to ${to.slice(0, 40)} is neither an age1… recipient nor an invitation file`);
  let inv: { recipient?: unknown };
  try {
    inv = JSON.parse(readFileSync(to, 'utf8'));
  } catch {
    throw new CliError(`${to} is not a room invitation (not JSON)`);
  }
  if (typeof inv.recipient !== 'string' || !isRecipient(inv.recipient))
    throw new CliError(`${to} has no "recipient": "age1…" field`);
  return inv.recipient;
}

/**
 * The passphrase of a room backup: `--passphrase-file`, else `AIRLOCK_PASSPHRASE`, else asked on the
 * terminal without echo. Never an argument on the command line (other users can read those in ps).
 */
export async function readPassphrase(file?: string): Promise<string> {
  if (file) return readText(file, 'passphrase file').replace(/\r?\n$/, '');
  const env = process.env.AIRLOCK_PASSPHRASE;
  if (env) return env;
  if (!process.stdin.isTTY) {
    throw new CliError('the room backup needs its passphrase: give --passphrase-file FILE or set AIRLOCK_PASSPHRASE');
  }
  return askHidden('Passphrase of the room backup: ');
}
