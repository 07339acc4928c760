/**
 * Integer hash sets on typed arrays for the scanners' hot loops: one probe per number read or per
 * byte offset, no strings, no boxing. Open addressing with linear probing at a load of at most 1/4,
 * so that most lookups of absent keys end at the first (empty) slot.
 */

const GOLDEN = 0x9e3779b1;

/**
 * A set of non-zero unsigned 32-bit integers, each carrying a small bit mask (`tag`). The binary
 * scan looks up one word per byte offset, almost always absent: a bitmap of 16 bits per key (at
 * most 4 MiB) answers most of those from cache, where the table itself (tens of MB for the real
 * data's 1.4 million keys) would cost a cache miss per byte (measured: 3× slower).
 */
export class WordSet {
  readonly #keys: Uint32Array;
  readonly #tags: Uint8Array;
  readonly #shift: number;
  readonly #mask: number;
  readonly #bloom: Uint32Array;
  readonly #bloomShift: number;
  size = 0;

  constructor(capacity: number) {
    let bits = 4;
    while (1 << bits < capacity * 2) bits++;
    this.#keys = new Uint32Array(1 << bits);
    this.#tags = new Uint8Array(1 << bits);
    this.#shift = 32 - bits;
    this.#mask = (1 << bits) - 1;
    let bloomBits = 10;
    while (bloomBits < 25 && 1 << bloomBits < capacity * 16) bloomBits++;
    this.#bloom = new Uint32Array(1 << (bloomBits - 5));
    this.#bloomShift = 32 - bloomBits;
  }

  /** Adds `tag`'s bits to `key`'s mask; key 0 is not stored (it is the empty slot). */
  add(key: number, tag: number): void {
    key >>>= 0;
    if (key === 0) return;
    const h = Math.imul(key, 0x85ebca6b) >>> this.#bloomShift;
    this.#bloom[h >>> 5]! |= 1 << (h & 31);
    let i = Math.imul(key, GOLDEN) >>> this.#shift;
    for (;;) {
      const k = this.#keys[i]!;
      if (k === key) {
        this.#tags[i]! |= tag;
        return;
      }
      if (k === 0) {
        this.#keys[i] = key;
        this.#tags[i] = tag;
        this.size++;
        return;
      }
      i = (i + 1) & this.#mask;
    }
  }

  /**
   * Top and bottom 16 bits of the keys that are read little-endian (`hi`) and byte-swapped (`lo`):
   * 64 KiB tables that stay in cache and reject most words before the bitmap (binary.ts).
   */
  readonly hi = new Uint8Array(65536);
  readonly lo = new Uint8Array(65536);

  /** The key's mask, 0 when absent. */
  get(key: number): number {
    key >>>= 0;
    const h = Math.imul(key, 0x85ebca6b) >>> this.#bloomShift;
    if (!(this.#bloom[h >>> 5]! & (1 << (h & 31)))) return 0;
    let i = Math.imul(key, GOLDEN) >>> this.#shift;
    for (;;) {
      const k = this.#keys[i]!;
      if (k === key) return this.#tags[i]!;
      if (k === 0) return 0;
      i = (i + 1) & this.#mask;
    }
  }
}

/**
 * A set of non-negative integers up to 2^53, each mapped to a small number (the index of the column
 * it came from). Values below 2^32 live in a {@link WordSet}-like table; larger ones in a Map.
 */
export class IdSet {
  readonly #keys: Uint32Array;
  readonly #vals: Uint16Array;
  readonly #shift: number;
  readonly #mask: number;
  readonly #big = new Map<number, number>();
  size = 0;

  constructor(capacity: number) {
    let bits = 4;
    while (1 << bits < capacity * 4) bits++;
    this.#keys = new Uint32Array(1 << bits);
    this.#vals = new Uint16Array(1 << bits);
    this.#shift = 32 - bits;
    this.#mask = (1 << bits) - 1;
  }

  /** A value in several columns keeps the last. @param v a positive safe integer */
  add(v: number, column: number): boolean {
    if (v > 0xffffffff) {
      const had = this.#big.has(v);
      this.#big.set(v, column);
      if (!had) this.size++;
      return !had;
    }
    let i = Math.imul(v >>> 0, GOLDEN) >>> this.#shift;
    for (;;) {
      const k = this.#keys[i]!;
      if (k === v) {
        this.#vals[i] = column;
        return false;
      }
      if (k === 0) {
        this.#keys[i] = v;
        this.#vals[i] = column;
        this.size++;
        return true;
      }
      i = (i + 1) & this.#mask;
    }
  }

  /** The column index of `v`, or -1. */
  get(v: number): number {
    if (v > 0xffffffff) return this.#big.get(v) ?? -1;
    if (v <= 0) return -1;
    let i = Math.imul(v >>> 0, GOLDEN) >>> this.#shift;
    for (;;) {
      const k = this.#keys[i]!;
      if (k === v) return this.#vals[i]!;
      if (k === 0) return -1;
      i = (i + 1) & this.#mask;
    }
  }

  /** Every value (for building derived tables). */
  *values(): Generator<number> {
    for (const k of this.#keys) if (k) yield k;
    yield* this.#big.keys();
  }
}
