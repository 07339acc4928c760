/**
 * Receipts: a signed record of which code ran on which data, what came out, and what the gate said.
 * The owner signs with an Ed25519 key in the SSH signature format (namespace `airlock-receipt`), so
 * the expert can check it with `airlock verify-receipt` or `ssh-keygen -Y verify`. See docs/RECEIPT.md.
 */
import {
  fingerprint,
  formatPublicKey,
  parsePublicKey,
  signSsh,
  signSshWith,
  verifySsh,
  SshError,
  type SshPrivateKey,
} from '../crypto/index.ts';

export const RECEIPT_FORMAT = 'airlock-receipt';
export const RECEIPT_VERSION = 1;
export const RECEIPT_NAMESPACE = 'airlock-receipt';

/** One check of the gate as the receipt records it (lib/gate GateCheck without its advice). */
export interface ReceiptCheck {
  id: string;
  file?: string;
  title: string;
  verdict: 'passed' | 'failed' | 'not-applicable';
  measured?: string;
  threshold?: string;
  reason: string;
  figures?: Record<string, number | string | boolean>;
}

/**
 * Version 1, extended compatibly: `policy` holds every setting of the room's policy, and `holdout`,
 * `gate.checks` are present when the run had them (docs/RECEIPT.md). A reader of the first receipts
 * ignores them; this one reads both.
 */
export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  version: number;
  bundle: { name: string; version: string; manifestSha256: string; signer: string };
  tables: Array<{ name: string; as: string; fingerprint: string; rows: number }>;
  software: { airlock: string; pyodide: string };
  /** The room's policy for the run: the time limit and output cap, and the disclosure thresholds. */
  policy: { timeLimitSeconds: number; maxOutputBytes: number; [setting: string]: number };
  /** The rows held back for the membership audit: the seed draws them again (docs/DISCLOSURE.md). */
  holdout?: { seed: string; share: number; tables: Array<{ as: string; rows: number; heldOut: number }> };
  started: string;
  ended: string;
  outputs: Array<{ path: string; sha256: string; size: number }>;
  /**
   * `reason`: the owner's words for exporting what the gate blocked (only when `overridden`);
   * `checks`: every check with its figures.
   */
  gate: {
    pass: boolean;
    overridden: boolean;
    reason?: string;
    problems: string[];
    tripwires: string[];
    checks?: ReceiptCheck[];
  };
  owner: { fingerprint: string; publicKey: string };
}

export type ReceiptBody = Omit<Receipt, 'format' | 'version' | 'owner'>;

export class ReceiptError extends Error {
  override name = 'ReceiptError';
}

/** The receipt's bytes as signed: stable key order, two-space indent, final newline. */
export function serializeReceipt(r: Receipt): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(r, null, 2) + '\n');
}

function complete(body: ReceiptBody, publicKey: Uint8Array): Receipt {
  return {
    format: RECEIPT_FORMAT,
    version: RECEIPT_VERSION,
    ...body,
    owner: { fingerprint: fingerprint(publicKey), publicKey: formatPublicKey(publicKey) },
  };
}

/** Signs a receipt with a key held as bytes (the CLI's file key). */
export function signReceipt(
  body: ReceiptBody,
  key: SshPrivateKey,
): { receipt: Receipt; bytes: Uint8Array; signature: string } {
  const receipt = complete(body, key.publicKey);
  const bytes = serializeReceipt(receipt);
  return { receipt, bytes, signature: signSsh(bytes, key, RECEIPT_NAMESPACE) };
}

/** Signs a receipt with a key that signs elsewhere (the app's non-extractable WebCrypto key). */
export async function signReceiptWith(
  body: ReceiptBody,
  publicKey: Uint8Array,
  sign: (data: Uint8Array) => Promise<Uint8Array>,
): Promise<{ receipt: Receipt; bytes: Uint8Array; signature: string }> {
  const receipt = complete(body, publicKey);
  const bytes = serializeReceipt(receipt);
  return { receipt, bytes, signature: await signSshWith(bytes, publicKey, RECEIPT_NAMESPACE, sign) };
}

/**
 * Checks a receipt: its signature, that the signer is the owner it names, and (if given) that the
 * owner is the one the expert expects.
 * @throws {ReceiptError} naming the problem.
 */
export function verifyReceipt(bytes: Uint8Array, signature: string, options: { owner?: string } = {}): Receipt {
  let r: Receipt;
  try {
    r = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ReceiptError('the receipt is not JSON');
  }
  if (r?.format !== RECEIPT_FORMAT)
    throw new ReceiptError(`not an Airlock receipt (format is not "${RECEIPT_FORMAT}")`);
  if (typeof r.version !== 'number' || r.version > RECEIPT_VERSION)
    throw new ReceiptError(`the receipt has version ${r.version}; update Airlock`);
  let signer: Uint8Array;
  try {
    signer = verifySsh(bytes, signature, RECEIPT_NAMESPACE);
  } catch (e) {
    throw new ReceiptError(`the receipt's signature is invalid: ${(e as SshError).message}`);
  }
  const fp = fingerprint(signer);
  if (fp !== r.owner?.fingerprint)
    throw new ReceiptError(`the receipt names owner ${r.owner?.fingerprint} but was signed by ${fp}`);
  if (options.owner) {
    const want = options.owner.startsWith('SHA256:')
      ? options.owner.trim()
      : fingerprint(parsePublicKey(options.owner).key);
    if (want !== fp) throw new ReceiptError(`the receipt is signed by ${fp}, not by the owner you expect (${want})`);
  }
  return r;
}
