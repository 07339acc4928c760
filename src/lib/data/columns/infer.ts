/**
 * Type inference: a column's type is the most specific of integer, float, boolean, date/time and
 * string that fits every non-missing value of its sample.
 */
import type { ColumnType } from '../../sandbox/index.ts';
import { DATE, FALSE, FLOAT, INT, TRUE, decodeBytes, parseDate } from './scalars.ts';

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
