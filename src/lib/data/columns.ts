/**
 * Type inference and columnar builders. A column's type is inferred from a sample of its values
 * (the most specific of integer, float, boolean, date/time, string that fits every non-missing
 * value); the builders then parse straight into typed arrays. A value that does not fit later on
 * turns the column into text, and the ingest report says from which line.
 */
import type { ColumnType, SandboxColumn } from '../sandbox/index.ts';

/** Missing markers seen in real exports; the owner can replace the set per column. */
export const DEFAULT_MISSING = ['', 'NA', 'N/A', 'n/a', 'na', 'NaN', 'nan', 'NULL', 'null', 'Null', 'None', 'none', '?', '-', '#N/A', 'missing'];

const INT = /^[+-]?\d{1,15}$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const TRUE = new Set(['true', 'TRUE', 'True', 'yes', 'Yes', 'YES']);
const FALSE = new Set(['false', 'FALSE', 'False', 'no', 'No', 'NO']);

/** Milliseconds since the epoch for an ISO date or date-time; a time without zone is read as UTC. */
export function parseDate(v: string): number {
  const m = DATE.exec(v);
  if (!m) return NaN;
  const iso = v.length === 10 ? `${v}T00:00:00Z` : m[1] ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`;
  return Date.parse(iso);
}

type Kind = 'int' | 'float' | 'bool' | 'datetime' | 'string';

function kindOf(v: string): Kind {
  const c = v.charCodeAt(0);
  // Numbers and dates start with a digit, a sign or a point; words need no regular expression.
  if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46) {
    if (INT.test(v)) return 'int';
    if (FLOAT.test(v)) return 'float';
    if (DATE.test(v) && !Number.isNaN(parseDate(v))) return 'datetime';
    return 'string';
  }
  return TRUE.has(v) || FALSE.has(v) ? 'bool' : 'string';
}

/**
 * Infers a column's type from its sampled values, one at a time: `add` takes a value as text;
 * `addBytes` takes it as UTF-8 bytes and reads plain numbers (digits, a sign, a point) without
 * decoding them, and skips a value equal to the one before, so that a sample of 5000 rows makes
 * strings only for what it must look at (a column of "No" makes one).
 */
export class TypeInference {
  private readonly seen = new Set<Kind>();
  private yes = false;
  private no = false;
  /** A value seen once tells all there is: categorical columns repeat a few words thousands of times. */
  private readonly done = new Set<string>();
  /** Whether some missing marker is itself a plain number ("-999"): then numbers are decoded and checked. */
  private readonly numberMarker: boolean;
  private lastBuf: Uint8Array | undefined;
  private lastA = 0;
  private lastB = 0;

  constructor(private readonly missing: Set<string>) {
    const enc = new TextEncoder();
    this.numberMarker = [...missing].some((m) => {
      const b = enc.encode(m);
      return plainNumberKind(b, 0, b.length) !== undefined;
    });
  }

  add(raw: string): void {
    if (this.done.has(raw)) return;
    this.done.add(raw);
    const v = raw.trim();
    if (this.missing.has(v) || this.missing.has(raw)) return;
    const k = kindOf(v);
    this.seen.add(k);
    if (k === 'bool') {
      if (TRUE.has(v)) this.yes = true;
      else this.no = true;
    }
  }

  /** The value `buf[a, b)`; `buf` must not change while this inference is in use. */
  addBytes(buf: Uint8Array, a: number, b: number): void {
    const last = this.lastBuf;
    if (last && this.lastB - this.lastA === b - a) {
      let same = true;
      for (let j = 0; j < b - a; j++) {
        if (last[this.lastA + j] !== buf[a + j]) {
          same = false;
          break;
        }
      }
      if (same) return;
    }
    this.lastBuf = buf;
    this.lastA = a;
    this.lastB = b;
    // A plain number is what kindOf makes of its text, and no missing marker (none is a number).
    const k = this.numberMarker ? undefined : plainNumberKind(buf, a, b);
    if (k) this.seen.add(k);
    else this.add(decodeBytes(buf, a, b));
  }

  /** The type that fits every value; `mixed` when numbers and text were both seen. */
  result(): { type: ColumnType; mixed: boolean } {
    const seen = this.seen;
    if (seen.size === 0) return { type: 'string', mixed: false };
    const numeric = seen.has('int') || seen.has('float');
    if (seen.size === 1) {
      const only = [...seen][0]!;
      // A column that only ever says "No" (or "Yes") is a category, not a boolean.
      if (only === 'bool' && !(this.yes && this.no)) return { type: 'string', mixed: false };
      return { type: only, mixed: false };
    }
    if ([...seen].every((k) => k === 'int' || k === 'float')) return { type: 'float', mixed: false };
    return { type: 'string', mixed: numeric && seen.has('string') };
  }
}

/**
 * `[+-]digits`, `[+-]digits.digits` or `[+-].digits` in bytes: 'int' (up to 15 digits, as the INT
 * pattern) or 'float' (as the FLOAT pattern), exactly what kindOf says of the same text; undefined
 * for anything else (spaces, exponents, words), which goes through kindOf itself.
 */
function plainNumberKind(buf: Uint8Array, a: number, b: number): 'int' | 'float' | undefined {
  let j = a;
  if (j < b && (buf[j] === 43 || buf[j] === 45)) j++;
  let before = 0;
  for (; j < b && buf[j]! >= 48 && buf[j]! <= 57; j++) before++;
  if (j === b) return before === 0 ? undefined : before <= 15 ? 'int' : 'float';
  if (buf[j] !== 46) return undefined;
  j++;
  let after = 0;
  for (; j < b && buf[j]! >= 48 && buf[j]! <= 57; j++) after++;
  return j === b && before + after > 0 ? 'float' : undefined;
}

/** The type that fits every sampled value; `mixed` when numbers and text were both seen. */
export function inferType(values: Iterable<string>, missing: Set<string>): { type: ColumnType; mixed: boolean } {
  const t = new TypeInference(missing);
  for (const v of values) t.add(v);
  return t.result();
}

/** A decimal integer of up to 15 digits, or undefined; faster than a regex and Number(). */
function parseIntFast(s: string): number | undefined {
  const n = s.length;
  if (n === 0 || n > 16) return undefined;
  let i = 0;
  let neg = false;
  const c0 = s.charCodeAt(0);
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    i = 1;
    if (n === 1) return undefined;
  }
  let x = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    x = x * 10 + d;
  }
  return neg ? 0 - x : x; // (not -x: "-0" is the integer 0, whatever array holds it)
}

/** A typed array with room for `need` elements: `a` itself, or a copy grown by doubling. */
export function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = a.length * 2;
  while (n < need) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/**
 * A loaded column. As SandboxColumn, except that text may have one-byte codes (Uint8Array, fewer
 * than 257 words), where missing values are 0 with `valid` 0; store.loadTable widens them to the
 * wire format's Int32Array with -1.
 */
export interface BuiltColumn extends SandboxColumn {
  /** Set when the column was turned into text: the first line whose value did not fit, and why. */
  demoted?: { line: number; value: string; from: ColumnType };
}

/** (`ignoreBOM`: a U+FEFF at the start of a field is part of the field.) */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** A field's bytes as a string (ASCII without a decoder call: a call costs more than a short field). */
export function decodeBytes(buf: Uint8Array, a: number, b: number): string {
  if (b - a <= 32) {
    let s = '';
    for (let j = a; j < b; j++) {
      const c = buf[j]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(a, b));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(buf.subarray(a, b));
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * `[+-]digits[.digits]` from bytes, or undefined. At most 15 digits in all, so the digits form an
 * exact integer m below 2^53 and m / 10^k (k ≤ 22) is one correctly rounded division: the same
 * double as Number() of the text (Clinger's fast path). Integers only when `intOnly`.
 */
function parseDecimalBytes(buf: Uint8Array, a: number, b: number, intOnly: boolean): number | undefined {
  let j = a;
  let neg = false;
  const c0 = buf[j]!;
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    j++;
  }
  let m = 0;
  let digits = 0;
  let frac = -1;
  for (; j < b; j++) {
    const d = buf[j]! - 48;
    if (d >= 0 && d <= 9) {
      m = m * 10 + d;
      digits++;
      if (frac >= 0) frac++;
    } else if (d === -2 && frac < 0 && !intOnly) frac = 0; // '.'
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const x = frac > 0 ? m / POW10[frac]! : m;
  return neg ? (intOnly ? 0 - x : -x) : x; // an integer "-0" is 0, a decimal one -0 (as Number() reads it)
}

/**
 * `YYYY-MM-DD`, or with ` HH:MM:SS` / `THH:MM:SS` and an optional `Z`, from bytes; undefined for
 * anything else (which parseDate then reads). Only unambiguous values: a year from 1000 (Date.UTC
 * reads 0–99 as 19xx), a day up to 28 (later days depend on the month), so the result is exactly
 * what parseDate gives.
 */
function parseDateBytes(buf: Uint8Array, a: number, b: number): number | undefined {
  const len = b - a;
  if (len !== 10 && len !== 19 && len !== 20) return undefined;
  if (buf[a + 4] !== 45 || buf[a + 7] !== 45) return undefined;
  const y = digits(buf, a, 4);
  const mo = digits(buf, a + 5, 2);
  const d = digits(buf, a + 8, 2);
  if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > 28) return undefined;
  const day = daysFromCivil(y, mo, d) * 86_400_000;
  if (len === 10) return day;
  const sep = buf[a + 10];
  if ((sep !== 32 && sep !== 84) || buf[a + 13] !== 58 || buf[a + 16] !== 58 || (len === 20 && buf[a + 19] !== 90)) return undefined;
  const h = digits(buf, a + 11, 2);
  const mi = digits(buf, a + 14, 2);
  const se = digits(buf, a + 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return undefined;
  return day + h * 3_600_000 + mi * 60_000 + se * 1000;
}

/** `count` decimal digits at `at` as a number, or -1. */
function digits(buf: Uint8Array, at: number, count: number): number {
  let x = 0;
  for (let k = 0; k < count; k++) {
    const d = buf[at + k]! - 48;
    if (d < 0 || d > 9) return -1;
    x = x * 10 + d;
  }
  return x;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil): what
 * Date.UTC(y, m - 1, d) / 86400000 gives, in integer arithmetic, without a call per value.
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

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
class ByteDictionary {
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

/** Text codes in the wire format: Int32Array with -1 for a missing value (one-byte codes are widened). */
export function wideCodes(c: { values: Int32Array | Float64Array | Uint8Array; valid?: Uint8Array }): Int32Array {
  return c.values instanceof Int32Array ? c.values : widenCodes(c, new Int32Array(c.values.length));
}

/** As wideCodes, into `into` (at least as long as the column): its first part, which it returns. */
export function widenCodes(c: { values: Int32Array | Float64Array | Uint8Array; valid?: Uint8Array }, into: Int32Array): Int32Array {
  const n = c.values.length;
  const wide = into.subarray(0, n);
  wide.set(c.values);
  if (c.valid) for (let i = 0; i < n; i++) if (!c.valid[i]) wide[i] = -1;
  return wide;
}

/**
 * The first `n` values of `a`: a view when `a`'s buffer has little room beyond them (no second copy
 * of a column sized from a good estimate), a copy when it has much (over an eighth).
 */
export function fitted<T extends Int32Array | Float64Array | Uint8Array>(a: T, n: number): T {
  const room = a.buffer.byteLength / a.BYTES_PER_ELEMENT - a.byteOffset / a.BYTES_PER_ELEMENT - n;
  return room <= (n + room) / 8 ? (a.subarray(0, n) as T) : (a.slice(0, n) as T);
}

/** A stored value as the text a column turned into text holds for it. */
export function valueText(type: ColumnType, x: number): string {
  return type === 'bool' ? (x ? 'true' : 'false') : type === 'datetime' ? new Date(x).toISOString() : String(x);
}

/** Collects one column's values into a typed array (strings: dictionary codes). */
export class ColumnBuilder {
  private n = 0;
  private nums: Float64Array | Int32Array | Uint8Array;
  private valid: Uint8Array | undefined;
  /** Each word's code, and the missing markers as -1: the string path's single lookup. */
  private codes: Map<string, number> | undefined;
  private lastRaw: string | undefined;
  /** `codes` keyed by UTF-8 bytes, for pushBytes; it learns each word the first time `push` sees it. */
  private byteCodes: ByteDictionary | undefined;
  /** true/false words and the missing markers by bytes, for a boolean column's pushBytes. */
  private boolCodes: ByteDictionary | undefined;
  private lastCode = 0;
  /** Some missing marker reads as a number ("-999"): numbers must be checked against the markers. */
  private readonly numericMarker: boolean;
  /** Some missing marker reads as a date ("1900-01-01"): dates must be checked against the markers. */
  private readonly dateMarker: boolean;
  private words: string[] | undefined;
  private demoted: BuiltColumn['demoted'];

  constructor(
    readonly name: string,
    public type: ColumnType,
    private readonly missing: Set<string>,
  ) {
    this.nums = this.alloc(type, 1024);
    this.numericMarker = [...missing].some((m) => m.trim() !== '' && !Number.isNaN(Number(m)));
    this.dateMarker = [...missing].some((m) => !Number.isNaN(parseDate(m.trim())));
    if (type === 'string') {
      this.words = [];
      this.codes = this.missingCodes();
      this.byteCodes = new ByteDictionary(this.codes);
    }
  }

  private missingCodes(): Map<string, number> {
    return new Map([...this.missing].map((m) => [m, -1]));
  }

  private alloc(type: ColumnType, n: number) {
    // Text starts with one byte per code: most categorical columns have fewer than 256 values,
    // and a quarter of the bytes is a quarter of the memory and of the IndexedDB write. The 257th
    // word widens the column to Int32Array (see `push`).
    return type === 'float' || type === 'datetime' ? new Float64Array(n) : type === 'bool' || type === 'string' ? new Uint8Array(n) : new Int32Array(n);
  }

  get length(): number {
    return this.n;
  }

  /** Room for `rows` values in all, so a column that was sized from an estimate never doubles. */
  reserve(rows: number): void {
    if (rows <= this.nums.length) return;
    const b = new (this.nums.constructor as new (n: number) => typeof this.nums)(rows);
    b.set(this.nums.subarray(0, this.n) as never);
    this.nums = b;
    if (this.valid) {
      const v = new Uint8Array(rows);
      v.set(this.valid.subarray(0, this.n));
      this.valid = v;
    }
  }

  private markMissing(i: number): void {
    if (!this.valid) {
      this.valid = new Uint8Array(Math.max(1024, this.nums.length));
      this.valid.fill(1, 0, i);
    }
  }

  /** Appends one raw value read on `line`. */
  push(raw: string, line: number): void {
    if (this.type === 'string') {
      // The hot path for text columns. Categorical columns repeat themselves (a drug column is
      // "No" on most rows): a match with the previous value costs a short string compare instead
      // of hashing a fresh substring; otherwise one lookup in a map that also holds the missing
      // markers (as code -1).
      let code: number | undefined;
      if (raw === this.lastRaw) code = this.lastCode;
      else {
        code = this.codes!.get(raw);
        if (code === undefined) {
          code = this.words!.length;
          if (code === 256 && this.nums instanceof Uint8Array) this.nums = Int32Array.from(this.nums);
          this.codes!.set(raw, code);
          this.words!.push(raw);
        }
        this.lastRaw = raw;
        this.lastCode = code;
      }
      // Missing text is 0 in the codes and 0 in `valid` (build() writes -1 in wide codes).
      return code < 0 ? this.put(0, true) : this.put(code, false);
    }
    const last = raw.length - 1;
    const v = last >= 0 && (raw.charCodeAt(0) <= 32 || raw.charCodeAt(last) <= 32) ? raw.trim() : raw;
    // Integers first: a value that parses is not a missing marker unless some marker is a number
    // itself (say "-999"), and skipping the marker lookup saves hashing every field.
    if (this.type === 'int' && !this.numericMarker) {
      const x = parseIntFast(v);
      if (x !== undefined && (x === (x | 0) || !(this.nums instanceof Int32Array))) return this.put(x, false);
    }
    if (this.missing.has(v)) return this.put(0, true);
    switch (this.type) {
      case 'int': {
        const x = parseIntFast(v);
        if (x !== undefined) {
          if (x !== (x | 0) && this.nums instanceof Int32Array) this.nums = Float64Array.from(this.nums);
          return this.put(x, false);
        }
        break;
      }
      case 'float': {
        const x = FLOAT.test(v) ? Number(v) : NaN;
        if (!Number.isNaN(x)) return this.put(x, false);
        break;
      }
      case 'bool':
        if (TRUE.has(v)) return this.put(1, false);
        if (FALSE.has(v)) return this.put(0, false);
        break;
      case 'datetime': {
        const x = parseDate(v);
        if (!Number.isNaN(x)) return this.put(x, false);
        break;
      }
    }
    // The value does not fit: this column becomes text from here on, earlier values included.
    this.demoteToString(line, raw);
    this.push(raw, line);
  }

  /**
   * Appends one raw value given as UTF-8 bytes `buf[a, b)` (the fast path, csv-bytes.ts): integers,
   * plain decimals and plain ISO dates are parsed from the bytes, text and booleans are looked up by
   * their bytes. Anything else — surrounding whitespace, exponents, a value that does not fit — is
   * decoded and goes through `push`, so both paths give the same column.
   */
  pushBytes(buf: Uint8Array, a: number, b: number, line: number): void {
    const t = this.type;
    if (t === 'string') {
      const code = this.byteCodes!.lookup(buf, a, b);
      if (code !== undefined) return code < 0 ? this.put(0, true) : this.put(code, false);
    } else if (b > a && buf[a]! > 32 && buf[b - 1]! > 32) {
      // (A value with surrounding whitespace goes through `push`, which trims.)
      if (t === 'bool') {
        const code = (this.boolCodes ??= new ByteDictionary(new Map([...[...TRUE].map((w) => [w, 1] as const), ...[...FALSE].map((w) => [w, 0] as const), ...[...this.missing].map((m) => [m, -1] as const)]))).lookup(buf, a, b);
        if (code !== undefined) return this.put(code < 0 ? 0 : code, code < 0);
      } else if (t === 'datetime') {
        const x = this.dateMarker ? undefined : parseDateBytes(buf, a, b);
        if (x !== undefined) return this.put(x, false);
      } else if (!this.numericMarker) {
        const x = parseDecimalBytes(buf, a, b, t === 'int');
        if (x !== undefined && (t === 'float' || x === (x | 0) || !(this.nums instanceof Int32Array))) return this.put(x, false);
      }
    }
    this.push(decodeBytes(buf, a, b), line);
  }

  /** Appends a value that is known to fit (or a missing one, stored as `x`). */
  private put(x: number, missing: boolean): void {
    const i = this.n++;
    if (this.nums.length <= i) this.nums = grow(this.nums, i + 1);
    if (this.valid && this.valid.length <= i) this.valid = grow(this.valid, i + 1);
    if (missing) this.markMissing(i);
    else if (this.valid) this.valid[i] = 1;
    this.nums[i] = x;
  }

  private demoteToString(line: number, value: string): void {
    const from = this.type;
    const old = this.nums;
    const words: string[] = [];
    const dict = new Map<string, number>();
    const codes = new Int32Array(Math.max(1024, old.length));
    for (let i = 0; i < this.n; i++) {
      if (this.valid && !this.valid[i]) {
        codes[i] = -1;
        continue;
      }
      const s = valueText(from, old[i]!);
      let c = dict.get(s);
      if (c === undefined) {
        c = words.length;
        dict.set(s, c);
        words.push(s);
      }
      codes[i] = c;
    }
    this.type = 'string';
    this.nums = codes;
    this.words = words;
    // The earlier values keep their words; a missing marker stays missing even where an earlier
    // value reads the same as text (-999.0 is "-999": that row keeps its word, a raw "-999" is missing).
    this.codes = this.missingCodes();
    for (const [w, c] of dict) if (!this.codes.has(w)) this.codes.set(w, c);
    this.byteCodes = new ByteDictionary(this.codes);
    this.lastRaw = undefined;
    this.demoted = { line, value: value.slice(0, 40), from };
  }

  /**
   * The finished column, trimmed to its length: a column sized from a good estimate is returned as
   * a view of its array (no second copy of the table in memory), one with much spare room is
   * trimmed, unless `keepRoom` (the room is for more rows: parallel.ts joins parts into it).
   * Consumers honour byteOffset/Length.
   */
  build(keepRoom = false): BuiltColumn {
    const trim = <T extends Int32Array | Float64Array | Uint8Array>(a: T): T => (keepRoom ? (a.subarray(0, this.n) as T) : fitted(a, this.n));
    const values = trim(this.nums);
    const col: BuiltColumn = { name: this.name, type: this.type, values };
    if (this.type === 'string') col.dictionary = this.words!;
    if (this.valid) {
      col.valid = trim(this.valid);
      // Wide codes keep the wire format's -1 for missing text; one-byte codes rely on `valid`.
      if (this.type === 'string' && values instanceof Int32Array) for (let i = 0; i < this.n; i++) if (!col.valid[i]) values[i] = -1;
    }
    if (this.demoted) col.demoted = this.demoted;
    return col;
  }
}
