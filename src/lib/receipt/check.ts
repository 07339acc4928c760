/**
 * The expert's side of a receipt, for the page (the CLI has `verify-receipt --outputs`): which of the
 * files they were sent are the outputs the receipt names, byte for byte; and the outputs sent as
 * one zip encrypted to them, opened with their age identity. Node-safe: no storage, no DOM.
 */
import { Decrypter, armor } from 'age-encryption';
import { unzipSync } from 'fflate';
import type { Receipt } from './receipt.ts';
import { RECEIPT_FILES } from './export.ts';

export interface OutputMatch {
  path: string;
  /** `match`: the file's SHA-256 is the receipt's; `differs`: it is not; `missing`: no file of that name. */
  status: 'match' | 'differs' | 'missing';
}

export interface ReceiptFilesCheck {
  outputs: OutputMatch[];
  /** Files given that the receipt does not name (besides the receipt and its signature). */
  extra: string[];
  /** Every output is there and matches. */
  ok: boolean;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** Compares files (by name) with the outputs a verified receipt names. */
export async function checkReceiptFiles(
  receipt: Pick<Receipt, 'outputs'>,
  files: Array<{ name: string; bytes: Uint8Array }>,
): Promise<ReceiptFilesCheck> {
  const byName = new Map(files.map((f) => [f.name, f.bytes]));
  const outputs: OutputMatch[] = [];
  for (const o of receipt.outputs) {
    // A browser download flattens folders to `a_b.json` (the app names them so): either name counts.
    const bytes = byName.get(o.path) ?? byName.get(o.path.replaceAll('/', '_'));
    outputs.push({
      path: o.path,
      status: !bytes
        ? 'missing'
        : bytes.byteLength === o.size && (await sha256Hex(bytes)) === o.sha256
          ? 'match'
          : 'differs',
    });
  }
  const named = new Set(receipt.outputs.flatMap((o) => [o.path, o.path.replaceAll('/', '_')]));
  const extra = files
    .map((f) => f.name)
    .filter((n) => !named.has(n) && !(RECEIPT_FILES as readonly string[]).includes(n));
  return { outputs, extra, ok: outputs.every((o) => o.status === 'match') };
}

/** Caps on the zip of outputs an expert opens: the owner's policy allows at most 100 files. */
export const SEALED_OUTPUT_LIMITS = { maxFiles: 1000, maxBytes: 2 * 1024 ** 3 } as const;

export class SealedOutputsError extends Error {
  override name = 'SealedOutputsError';
  constructor(
    readonly code: 'wrong-identity' | 'not-age' | 'bad-zip' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Opens `<bundle>-outputs.zip.age`: decrypts it with the expert's age identity (`AGE-SECRET-KEY-1…`)
 * and unzips it, within {@link SEALED_OUTPUT_LIMITS} (checked on the sizes the zip declares, before
 * anything is inflated).
 * @throws {SealedOutputsError} naming what to do
 */
export async function openSealedOutputs(
  sealed: Uint8Array,
  identity: string,
): Promise<Array<{ name: string; bytes: Uint8Array }>> {
  const key = identity
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (!key) throw new SealedOutputsError('wrong-identity', 'the identity file holds no AGE-SECRET-KEY-1… line');
  const d = new Decrypter();
  d.addIdentity(key);
  const head = new TextDecoder().decode(sealed.subarray(0, 40));
  if (!head.startsWith('age-encryption.org/v1') && !head.startsWith('-----BEGIN AGE ENCRYPTED FILE-----')) {
    throw new SealedOutputsError('not-age', 'this is not an age-encrypted file of outputs (…-outputs.zip.age)');
  }
  let zip: Uint8Array;
  try {
    zip = await d.decrypt(head.startsWith('-----BEGIN') ? armor.decode(new TextDecoder().decode(sealed)) : sealed);
  } catch {
    throw new SealedOutputsError(
      'wrong-identity',
      'this file does not open with that identity: choose the key whose recipient you gave when sealing',
    );
  }
  let count = 0;
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        count++;
        total += f.originalSize;
        if (count > SEALED_OUTPUT_LIMITS.maxFiles || total > SEALED_OUTPUT_LIMITS.maxBytes) {
          throw new SealedOutputsError('too-large', 'the zip of outputs is larger than any run may write');
        }
        return !f.name.endsWith('/');
      },
    });
  } catch (e) {
    if (e instanceof SealedOutputsError) throw e;
    throw new SealedOutputsError('bad-zip', 'the decrypted outputs are not a readable zip');
  }
  return Object.entries(files).map(([name, bytes]) => ({ name, bytes }));
}
