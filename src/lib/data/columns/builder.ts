/**
 * Columnar builders: a column's values parsed straight into a typed array (text as dictionary
 * codes), once its type is chosen (infer.ts). A value that does not fit later on turns the column
 * into text, and the ingest report says from which line.
 */
import type { ColumnType, SandboxColumn } from '../../sandbox/index.ts';
import { fitted, grow } from './arrays.ts';
import { ByteDictionary } from './dictionary.ts';
import { FALSE, FLOAT, TRUE, decodeBytes, parseDate, parseDateBytes, parseDecimalBytes, parseIntFast, valueText } from './scalars.ts';

/**
 * A loaded column. As SandboxColumn, except that text may have one-byte codes (Uint8Array, fewer
 * than 257 words), where missing values are 0 with `valid` 0; store.loadTable widens them to the
 * wire format's Int32Array with -1.
 */
export interface BuiltColumn extends SandboxColumn {
  /** Set when the column was turned into text: the first line whose value did not fit, and why. */
  demoted?: { line: number; value: string; from: ColumnType };
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
   * trimmed, unless `keepRoom` (the room is for more rows: parallel/join.ts joins parts into it).
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
