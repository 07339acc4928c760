/**
 * The binary scanner: identifiers stored as numbers rather than text — little- or big-endian int32,
 * int64, float32, float64 — at any byte offset (the body of an .npy, a safetensors or ONNX tensor,
 * a raw dump), without parsing the format.
 *
 * One rolling 32-bit little-endian word per offset is looked up in one table holding every form's
 * 32-bit key (the value; its byte swap; its float32 bits; the high word of its float64 …), and a
 * hit is confirmed on the full 4 or 8 bytes. A single match proves nothing: one indexed value per
 * 25,000 random 32-bit words (173,222 ids on the real data over 2^32, in each of four forms), so a 50 MB
 * file of random or compressed bytes holds ~8,000 chance matches. What an array of identifiers
 * has and chance does not is *structure*: matches of the same form at a constant stride. The
 * verdict needs either three in a row at the form's own stride (4 or 8 bytes: an id column), or
 * four at any common stride up to 64 KiB (ids in a row-major table). By the rates measured in
 * tests/unit/gate-binary.test.ts, chance produces three in a row about once per 10^5 files of 50 MB,
 * and legitimate float weight files produced none (docs/SECURITY.md has the table).
 */
import type { IdSet, WordSet } from './sets.ts';

export const K_I32LE = 1;
export const K_I32BE = 2;
export const K_F32LE = 4;
export const K_F32BE = 8;
/** Float64, little-endian: the key is the high word, at item + 4. */
export const K_F64LE = 16;
/** Float64, big-endian: the key is the high word byte-swapped, at the item's start. */
export const K_F64BE = 32;
/** Int64 of a value ≥ 2^32, little-endian: the key is the low word. */
export const K_I64LE = 64;
/** Int64 of a value ≥ 2^32, big-endian: the key is the high word byte-swapped. */
export const K_I64BE = 128;

/** Protobuf varint (LEB128), as in ONNX's int64_data and any packed repeated field. */
export const K_VARINT = 256;
/** Protobuf sint64 (zigzag varint). */
export const K_ZIGZAG = 512;

export const KIND_NAMES: Record<number, string> = {
  [K_VARINT]: 'varint',
  [K_ZIGZAG]: 'zigzag-varint',
  [K_I32LE]: 'int32le',
  [K_I32BE]: 'int32be',
  [K_F32LE]: 'float32le',
  [K_F32BE]: 'float32be',
  [K_F64LE]: 'float64le',
  [K_F64BE]: 'float64be',
  [K_I64LE]: 'int64le',
  [K_I64BE]: 'int64be',
};

const view = new DataView(new ArrayBuffer(8));

export function bswap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** Adds the binary forms of one identifier to the word table. */
export function addBinaryForms(words: WordSet, v: number): void {
  // Little-endian forms: the key's top 16 bits are the value's; big-endian: its bottom 16 bits.
  const le = (key: number, kind: number) => {
    words.add(key, kind);
    words.hi[key >>> 16] = 1;
  };
  const be = (key: number, kind: number) => {
    words.add(key, kind);
    words.lo[key & 0xffff] = 1;
  };
  if (v <= 0xffffffff) {
    le(v, K_I32LE);
    be(bswap(v), K_I32BE);
  } else {
    // The low word of an int64 is not its top: mark it in both tables.
    le(v % 2 ** 32, K_I64LE);
    words.lo[(v % 2 ** 32) & 0xffff] = 1;
    be(bswap(Math.floor(v / 2 ** 32)), K_I64BE);
  }
  view.setFloat32(0, v, true);
  const f32 = view.getUint32(0, true);
  le(f32, K_F32LE);
  be(bswap(f32), K_F32BE);
  view.setFloat64(0, v, true);
  const hi = view.getUint32(4, true);
  le(hi, K_F64LE);
  be(bswap(hi), K_F64BE);
}

export interface BinaryHit {
  offset: number;
  kind: number;
  value: number;
}

/** Identifiers below this are also in a bitmap (2 MiB): exact in one access, for the varint scan. */
export const SMALL = 1 << 24;

/** The index's parts the binary scanners need. */
export interface BinaryIndex {
  ids: IdSet;
  /** Bit v set for every identifier v < {@link SMALL}. */
  small: Uint8Array;
  /** float32 roundings of ids ≥ 2^24 (not exact in float32) */
  idsF32: IdSet;
  words: WordSet;
}

function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function f32Value(bits: number, idx: BinaryIndex): number {
  view.setUint32(0, bits, true);
  const f = view.getFloat32(0, true);
  if (!Number.isInteger(f) || f <= 0) return -1;
  if (idx.ids.get(f) >= 0) return f;
  return f >= 2 ** 24 && idx.idsF32.get(f) >= 0 ? f : -1;
}

function f64At(b: Uint8Array, o: number, little: boolean): number {
  for (let k = 0; k < 8; k++) view.setUint8(k, b[o + k]!);
  return view.getFloat64(0, little);
}

/** Confirms the forms `tags` of the word at `i`; calls `hit` for each. */
function confirm(
  b: Uint8Array,
  i: number,
  w: number,
  tags: number,
  idx: BinaryIndex,
  hit: (offset: number, kind: number, value: number) => void,
): void {
  const n = b.length;
  if (tags & K_I32LE && idx.ids.get(w) >= 0) hit(i, K_I32LE, w);
  if (tags & K_I32BE) {
    const v = bswap(w);
    if (idx.ids.get(v) >= 0) hit(i, K_I32BE, v);
  }
  if (tags & K_F32LE) {
    const v = f32Value(w, idx);
    if (v > 0) hit(i, K_F32LE, v);
  }
  if (tags & K_F32BE) {
    const v = f32Value(bswap(w), idx);
    if (v > 0) hit(i, K_F32BE, v);
  }
  if (tags & K_F64LE && i >= 4) {
    const v = f64At(b, i - 4, true);
    if (Number.isInteger(v) && idx.ids.get(v) >= 0) hit(i - 4, K_F64LE, v);
  }
  if (tags & K_F64BE && i + 8 <= n) {
    const v = f64At(b, i, false);
    if (Number.isInteger(v) && idx.ids.get(v) >= 0) hit(i, K_F64BE, v);
  }
  if (tags & K_I64LE && i + 8 <= n) {
    const v = w + u32(b, i + 4) * 2 ** 32;
    if (v <= Number.MAX_SAFE_INTEGER && idx.ids.get(v) >= 0) hit(i, K_I64LE, v);
  }
  if (tags & K_I64BE && i + 8 <= n) {
    const v = bswap(w) * 2 ** 32 + bswap(u32(b, i + 4));
    if (v <= Number.MAX_SAFE_INTEGER && idx.ids.get(v) >= 0) hit(i, K_I64BE, v);
  }
}

/** Most matches kept per scanned buffer: more than enough to see structure; chance gives ~160 per MB. */
const MAX_MATCHES = 1 << 20;
/** Longest stride of a row-major table row that the progression test looks for. */
const MAX_STRIDE = 65536;

export interface BinaryScan {
  /** Matches in structure (runs, progressions): identifiers stored in binary. */
  structured: BinaryHit[];
  /** All matches, structured or not (for measurement). */
  matches: number;
}

/**
 * Scans every offset of `b` for binary identifiers and keeps the matches that show structure.
 * @param tick called every 4 MiB (the caller checks its deadline there)
 */
export function scanBinary(b: Uint8Array, idx: BinaryIndex, tick: () => void): BinaryScan {
  const n = b.length;
  const structured: BinaryHit[] = [];
  if (n < 4) return { structured, matches: 0 };
  // Per form: offsets of its matches (ascending) and a set for the look-back.
  const offsets = new Map<number, number[]>();
  const sets = new Map<number, Set<number>>();
  const marked = new Set<string>();
  let matches = 0;
  const mark = (kind: number, offset: number, value: number) => {
    const key = `${kind}:${offset}`;
    if (marked.has(key)) return;
    marked.add(key);
    structured.push({ offset, kind, value });
  };
  const values = new Map<string, number>();
  const hit = (offset: number, kind: number, value: number) => {
    if (matches >= MAX_MATCHES) return;
    matches++;
    let list = offsets.get(kind);
    let set = sets.get(kind);
    if (!list || !set) {
      list = [];
      set = new Set();
      offsets.set(kind, list);
      sets.set(kind, set);
    }
    if (set.has(offset)) return;
    values.set(`${kind}:${offset}`, value);
    const v = (o: number) => values.get(`${kind}:${o}`)!;
    // Look back at the last 16 matches of the form: three at a stride of 4 to 16 bytes (an array,
    // or a MessagePack/CBOR list: 5 and 9), or four at any stride up to 64 KiB (a row-major table).
    for (let k = list.length - 1; k >= 0 && k >= list.length - 16; k--) {
      const prev = list[k]!;
      const d = offset - prev;
      if (d > MAX_STRIDE) break;
      if (d < 4 || !set.has(prev - d)) continue;
      if (d <= 16) {
        for (const o of [prev - d, prev]) mark(kind, o, v(o));
        mark(kind, offset, value);
      } else if (set.has(prev - 2 * d)) {
        for (const o of [prev - 2 * d, prev - d, prev]) mark(kind, o, v(o));
        mark(kind, offset, value);
      }
    }
    list.push(offset);
    set.add(offset);
  };
  const words = idx.words;
  const hiT = words.hi;
  const loT = words.lo;
  let w = u32(b, 0);
  for (let i = 0; ;) {
    if (hiT[w >>> 16] || loT[w & 0xffff]) {
      const tags = words.get(w);
      if (tags) confirm(b, i, w, tags, idx, hit);
    }
    if (++i + 4 > n) break;
    w = ((w >>> 8) | (b[i + 3]! << 24)) >>> 0;
    if ((i & 0x3fffff) === 0) tick();
  }
  matches += scanVarints(b, idx, mark);
  structured.sort((x, y) => x.offset - y.offset);
  return { structured, matches };
}

/** The word table's int32 key is the id itself, and its bitmap answers most misses from cache. */
function isId(idx: BinaryIndex, x: number): boolean {
  if (x < 10_000) return false; // MIN_ID (leak.ts): nothing smaller is indexed
  if (x < SMALL) return (idx.small[x >>> 3]! & (1 << (x & 7))) !== 0;
  return x <= 0xffffffff ? idx.words.hi[x >>> 16] === 1 && (idx.words.get(x) & K_I32LE) !== 0 : idx.ids.get(x) >= 0;
}

/** Consecutive varints that must all be identifiers: chance makes one every ~2,500 varints of random bytes. */
const VARINT_RUN = 4;

/**
 * Varints (protobuf's packed repeated fields, e.g. an ONNX tensor written with int64_data): a varint
 * ends at a byte below 0x80, so the bytes split into candidate varints in one pass, and a packed
 * array of identifiers is a run of consecutive candidates that are all identifiers.
 */
function scanVarints(
  b: Uint8Array,
  idx: BinaryIndex,
  mark: (kind: number, offset: number, value: number) => void,
): number {
  let matches = 0;
  let run: Array<[number, number, number]> = [];
  let s = 0;
  for (let t = 0; t < b.length; t++) {
    if (b[t]! & 0x80) continue;
    const len = t - s + 1;
    let kind = 0;
    let value = 0;
    if (len >= 2 && len <= 8) {
      let v = 0;
      for (let k = t; k >= s; k--) v = v * 128 + (b[k]! & 0x7f);
      if (isId(idx, v)) {
        kind = K_VARINT;
        value = v;
      } else if (v % 2 === 0 && isId(idx, v / 2)) {
        kind = K_ZIGZAG;
        value = v / 2;
      }
    }
    if (kind) {
      matches++;
      run.push([kind, s, value]);
      if (run.length === VARINT_RUN) for (const [k, o, v] of run) mark(k, o, v);
      else if (run.length > VARINT_RUN) mark(kind, s, value);
    } else run = [];
    s = t + 1;
  }
  return matches;
}

/** One value stored alone in exactly 4 or 8 bytes (a short base64 or hex encoding): every form. */
export function singleValue(b: Uint8Array, idx: BinaryIndex): BinaryHit | null {
  let found: BinaryHit | null = null;
  const hit = (offset: number, kind: number, value: number) => {
    if (!found && offset === 0) found = { offset, kind, value };
  };
  if (b.length === 4) {
    const w = u32(b, 0);
    confirm(b, 0, w, K_I32LE | K_I32BE | K_F32LE | K_F32BE, idx, hit);
  } else if (b.length === 8) {
    const lo = u32(b, 0);
    const hi = u32(b, 4);
    if (hi === 0) confirm(b, 0, lo, K_I32LE, idx, hit);
    if (lo === 0) confirm(b, 4, hi, K_I32BE, idx, (_o, k, v) => hit(0, k, v));
    confirm(b, 0, lo, K_I64LE | K_I64BE | K_F64BE, idx, hit);
    confirm(b, 4, hi, K_F64LE, idx, hit);
  }
  return found;
}

/** A numeric element type of a typed container (npy, safetensors). */
export type ElementType = 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'f4' | 'f8';

/**
 * Every element of a typed array (an .npy body, a safetensors tensor), read as the format declares:
 * here a single identifier counts, as in text — the format says these bytes are numbers, so there
 * is no chance alignment to discount.
 */
export function scanElements(
  b: Uint8Array,
  type: ElementType,
  little: boolean,
  idx: BinaryIndex,
  each: (value: number) => boolean | void,
  tick: () => void,
): void {
  const size = Number(type.slice(1));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = Math.floor(b.length / size);
  for (let k = 0; k < count; k++) {
    if ((k & 0xfffff) === 0) tick();
    const o = k * size;
    let v: number;
    switch (type) {
      case 'i4':
        v = dv.getInt32(o, little);
        break;
      case 'u4':
        v = dv.getUint32(o, little);
        break;
      case 'i8':
      case 'u8':
        v = Number(type === 'i8' ? dv.getBigInt64(o, little) : dv.getBigUint64(o, little));
        break;
      case 'f4':
        v = dv.getFloat32(o, little);
        if (v >= 2 ** 24 && Number.isInteger(v) && idx.idsF32.get(v) >= 0 && each(v)) return;
        break;
      case 'f8':
        v = dv.getFloat64(o, little);
        break;
      default:
        // 8- and 16-bit elements hold no value ≥ 10,000 except u2 (up to 65,535).
        if (type !== 'u2' && type !== 'i2') continue;
        v = type === 'u2' ? dv.getUint16(o, little) : dv.getInt16(o, little);
    }
    if (v < 0) v = -v;
    if (Number.isInteger(v) && idx.ids.get(v) >= 0 && each(v)) return;
  }
}
