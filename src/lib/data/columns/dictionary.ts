/** Text columns' dictionary codes looked up by a field's UTF-8 bytes (the builders' fast path). */
import { grow } from './arrays.ts';
import { decodeBytes } from './scalars.ts';

/** FNV-1a over `buf[a, b)`. */
function fnv1a(buf: Uint8Array, a: number, b: number): number {
  let h = 0x811c9dc5;
  for (let j = a; j < b; j++) h = Math.imul(h ^ buf[j]!, 0x01000193);
  return h;
}

function sameBytes(x: Uint8Array, xa: number, xb: number, y: Uint8Array, ya: number, yb: number): boolean {
  if (xb - xa !== yb - ya) return false;
  for (let k = 0; k < xb - xa; k++) if (x[xa + k] !== y[ya + k]) return false;
  return true;
}

/** A packed value's hash (multiplicative mixing; the low bits pick the slot). */
function shortHash(lo: number, mid: number, hi: number): number {
  const h = Math.imul(Math.imul(lo, 0x165667b1) ^ Math.imul(mid, 0x27d4eb2f) ^ hi, 0x9e3779b1);
  return h ^ (h >>> 15);
}

/**
 * Dictionary codes looked up by UTF-8 bytes, in front of a string map: a miss decodes the bytes
 * once, asks the map, and remembers the answer by bytes. Values of up to ten bytes — most
 * categories: "No", "Steady", "[0-10)", "250.83", "cardiology" — are packed into three integers,
 * compared and hashed without a loop over stored bytes; longer ones are hashed (FNV-1a) and
 * compared byte by byte.
 */
export class ByteDictionary {
  private shortLo = new Int32Array(64);
  private shortMid = new Int32Array(64);
  private shortHi = new Int32Array(64);
  private shortCodes = new Int32Array(64);
  private shortCount = 0;
  private shortSlots = new Int32Array(256).fill(-1);
  private lastLo = 0;
  private lastMid = 0;
  /** (A packed value's high part is never negative: -1 matches nothing.) */
  private lastHi = -1;
  private lastShortCode = 0;
  private keys: Uint8Array[] = [];
  private values: number[] = [];
  private slots = new Int32Array(1024).fill(-1);
  /** The previous long value (the table's own copy: the file's pieces are reused buffers). */
  private lastKey: Uint8Array | undefined;
  private lastCode = 0;

  constructor(private readonly codes: Map<string, number>) {}

  /** The code of `buf[a, b)`, or undefined when the string map does not know it yet (push adds it). */
  lookup(buf: Uint8Array, a: number, b: number): number | undefined {
    const len = b - a;
    if (len <= 10) {
      // Bytes 0–3 in `lo`, 4–7 in `mid`, 8–9 and the length in `hi`.
      let lo = 0;
      let mid = 0;
      let hi = len << 16;
      const e4 = len < 4 ? b : a + 4;
      for (let j = a; j < e4; j++) lo = (lo << 8) | buf[j]!;
      if (len > 4) {
        const e8 = len < 8 ? b : a + 8;
        for (let j = a + 4; j < e8; j++) mid = (mid << 8) | buf[j]!;
        let h = 0;
        for (let j = a + 8; j < b; j++) h = (h << 8) | buf[j]!;
        hi |= h;
      }
      // Categorical columns repeat themselves: compare with the previous value first.
      if (lo === this.lastLo && mid === this.lastMid && hi === this.lastHi) return this.lastShortCode;
      const mask = this.shortSlots.length - 1;
      const h = shortHash(lo, mid, hi);
      let s = h & mask;
      for (; ; s = (s + 1) & mask) {
        const e = this.shortSlots[s]!;
        if (e < 0) break;
        if (this.shortLo[e] === lo && this.shortMid[e] === mid && this.shortHi[e] === hi) {
          this.lastLo = lo;
          this.lastMid = mid;
          this.lastHi = hi;
          return (this.lastShortCode = this.shortCodes[e]!);
        }
      }
      const code = this.codes.get(decodeBytes(buf, a, b));
      if (code === undefined) return undefined;
      this.insertShort(lo, mid, hi, code, s);
      this.lastLo = lo;
      this.lastMid = mid;
      this.lastHi = hi;
      return (this.lastShortCode = code);
    }
    if (this.lastKey && sameBytes(this.lastKey, 0, this.lastKey.length, buf, a, b)) return this.lastCode;
    const h = fnv1a(buf, a, b);
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e < 0) break;
      const key = this.keys[e]!;
      if (sameBytes(key, 0, key.length, buf, a, b)) {
        this.lastKey = key;
        return (this.lastCode = this.values[e]!);
      }
    }
    const code = this.codes.get(decodeBytes(buf, a, b));
    if (code === undefined) return undefined;
    const key = buf.slice(a, b);
    this.insert(key, h, code);
    this.lastKey = key;
    return (this.lastCode = code);
  }

  /** Adds a packed value at free slot `s` (or rehashes first, when the table is half full). */
  private insertShort(lo: number, mid: number, hi: number, code: number, s: number): void {
    const e = this.shortCount++;
    this.shortLo = grow(this.shortLo, e + 1);
    this.shortMid = grow(this.shortMid, e + 1);
    this.shortHi = grow(this.shortHi, e + 1);
    this.shortCodes = grow(this.shortCodes, e + 1);
    this.shortLo[e] = lo;
    this.shortMid[e] = mid;
    this.shortHi[e] = hi;
    this.shortCodes[e] = code;
    if ((e + 1) * 2 <= this.shortSlots.length) {
      this.shortSlots[s] = e;
      return;
    }
    this.shortSlots = new Int32Array(this.shortSlots.length * 2).fill(-1);
    const mask = this.shortSlots.length - 1;
    for (let k = 0; k <= e; k++) {
      let t = shortHash(this.shortLo[k]!, this.shortMid[k]!, this.shortHi[k]!) & mask;
      while (this.shortSlots[t]! >= 0) t = (t + 1) & mask;
      this.shortSlots[t] = k;
    }
  }

  private insert(key: Uint8Array, h: number, code: number): void {
    if ((this.keys.length + 1) * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2).fill(-1);
      for (let e = 0; e < this.keys.length; e++) this.place(fnv1a(this.keys[e]!, 0, this.keys[e]!.length), e);
    }
    this.keys.push(key);
    this.values.push(code);
    this.place(h, this.keys.length - 1);
  }

  private place(h: number, e: number): void {
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s]! >= 0) s = (s + 1) & mask;
    this.slots[s] = e;
  }
}
