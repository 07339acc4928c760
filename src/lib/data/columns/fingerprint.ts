/**
 * A table's fingerprint: the canonical SHA-256 of its content, which receipts cite.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { widenCodes } from './arrays.ts';
import type { BuiltColumn } from './builder.ts';

async function digest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * Canonical SHA-256 of a table's content, which receipts cite: SHA-256 over a JSON header (row
 * count; each column's name, type and array kind) followed by, per column, the SHA-256 of its
 * values, of its validity mask (or of nothing) and of its dictionary as JSON (or of nothing).
 * Same data, same fingerprint, however it is held: text is hashed as Int32 codes with -1 for a
 * missing value (the wire format, and how every table was stored before one-byte codes), so a
 * table keeps its fingerprint across versions. Per-part digests use WebCrypto, native and fast.
 */
export async function fingerprintColumns(rowCount: number, columns: BuiltColumn[]): Promise<string> {
  const enc = new TextEncoder();
  const narrow = (c: BuiltColumn) => c.type === 'string' && !(c.values instanceof Int32Array);
  const parts: Uint8Array[] = [enc.encode(JSON.stringify({ rows: rowCount, columns: columns.map((c) => [c.name, c.type, narrow(c) ? 'Int32Array' : c.values.constructor.name]) }))];
  // Every digest requested at once (one round trip to WebCrypto instead of three per column).
  // One-byte codes are widened into one scratch array, column after column: digest() copies its
  // input when called (WebCrypto §14.3.5, "get a copy of the bytes"), so the array is free again
  // at once, and the wide copies never add up.
  const scratch = new Int32Array(columns.some(narrow) ? rowCount : 0);
  const values = (c: BuiltColumn): Promise<Uint8Array> => {
    if (!narrow(c)) return digest(new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength));
    const wide = widenCodes(c, scratch);
    return digest(new Uint8Array(wide.buffer, wide.byteOffset, wide.byteLength));
  };
  parts.push(
    ...(await Promise.all(
      columns.flatMap((c) => [
        values(c),
        digest(c.valid ?? new Uint8Array(0)),
        digest(c.dictionary ? enc.encode(JSON.stringify(c.dictionary)) : new Uint8Array(0)),
      ]),
    )),
  );
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return bytesToHex(sha256(all));
}
