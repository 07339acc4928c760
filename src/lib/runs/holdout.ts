/**
 * The rows held back from a run for the membership audit (docs/DISCLOSURE.md). Chosen at random
 * from a seed the receipt records, so anyone with the table can draw the same rows again:
 *
 *   rng(purpose) = xoshiro128** seeded with the first 16 bytes of SHA-256(seed ‖ 0x00 ‖ purpose)
 *   held rows of table T = the first round(share × rows) of a Fisher–Yates shuffle of 0…rows−1
 *                          drawn from rng(T)  (T: the name the notebook reads the table by)
 *   audited members      = the same draw over the rows the notebook saw, from rng(T + "/members")
 *   audit order          = a shuffle of held and members together, from rng("order")
 *
 * The notebook receives only the other rows, copied into new arrays with the text columns'
 * dictionaries rebuilt from them: a held row's value is in no buffer the sandbox holds, not even
 * as a category no remaining row has.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { SandboxColumn, SandboxTable } from '../sandbox/index.ts';

/** Fewest rows held back for an audit to mean anything; below it, nothing is held back. */
export const MIN_HELD = 20;
/** Rows of each kind the audit scores (held back, and as many the notebook saw). */
export const AUDIT_ROWS = 1000;

/** What the receipt records of the holdout. */
export interface HoldoutRecord {
  /** Hex; with the tables, it gives the held rows back (see the module's comment). */
  seed: string;
  share: number;
  tables: Array<{ as: string; rows: number; heldOut: number }>;
}

/** A fresh seed (128 bits). */
export function newSeed(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
}

/** xoshiro128** (Blackman & Vigna) from SHA-256(seed ‖ 0 ‖ purpose): uniform in [0, 1). */
export function seededRandom(seed: string, purpose: string): () => number {
  const h = sha256(new TextEncoder().encode(`${seed}\u0000${purpose}`));
  const dv = new DataView(h.buffer, h.byteOffset, 16);
  const s = [dv.getUint32(0, true), dv.getUint32(4, true), dv.getUint32(8, true), dv.getUint32(12, true)];
  if (!(s[0]! | s[1]! | s[2]! | s[3]!)) s[0] = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result / 4294967296;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The first `k` of a seeded shuffle of `items` (a partial Fisher–Yates). */
export function draw(items: Int32Array, k: number, rand: () => number): Int32Array {
  const a = items.slice();
  const m = Math.min(k, a.length);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rand() * (a.length - i));
    const x = a[i]!;
    a[i] = a[j]!;
    a[j] = x;
  }
  return a.slice(0, m);
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** The rows of a table held back: in the order drawn (the audit takes the first ones). */
export function heldRows(seed: string, as: string, rows: number, share: number): Int32Array {
  const k = Math.round(share * rows);
  return k < MIN_HELD ? new Int32Array(0) : draw(range(rows), k, seededRandom(seed, as));
}

/** Row numbers 0…n−1 without `held`, in order. */
export function complement(n: number, held: Int32Array): Int32Array {
  const out = new Uint8Array(n);
  for (const r of held) out[r] = 1;
  const rest = new Int32Array(n - held.length);
  let o = 0;
  for (let i = 0; i < n; i++) if (!out[i]) rest[o++] = i;
  return rest;
}

/**
 * The given rows of a table, in the given order, as a new table: every array a fresh copy of those
 * rows only, text dictionaries holding only the values those rows use.
 */
export function subsetTable(t: SandboxTable, rows: Int32Array, extra: Partial<SandboxTable> = {}): SandboxTable {
  const n = rows.length;
  const columns = t.columns.map((c): SandboxColumn => {
    let valid: Uint8Array | undefined;
    if (c.valid) {
      valid = new Uint8Array(n);
      for (let i = 0; i < n; i++) valid[i] = c.valid[rows[i]!]!;
    }
    if (c.type === 'string') {
      const src = c.values as Int32Array;
      const dict = c.dictionary ?? [];
      const remap = new Int32Array(dict.length).fill(-1);
      const used: string[] = [];
      const values = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const code = src[rows[i]!]!;
        if (code < 0) {
          values[i] = -1;
          continue;
        }
        if (remap[code]! < 0) remap[code] = used.push(dict[code]!) - 1;
        values[i] = remap[code]!;
      }
      return { name: c.name, type: c.type, values, dictionary: used, ...(valid ? { valid } : {}) };
    }
    const Ctor = c.values.constructor as Int32ArrayConstructor | Float64ArrayConstructor | Uint8ArrayConstructor;
    const values = new Ctor(n);
    for (let i = 0; i < n; i++) values[i] = c.values[rows[i]!]!;
    return { name: c.name, type: c.type, values, ...(valid ? { valid } : {}) };
  });
  return { name: t.name, rowCount: n, columns, ...extra };
}
