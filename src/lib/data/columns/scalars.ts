/**
 * Values as text and as bytes: the missing markers, the words for true and false, and the parsers
 * that read integers, decimals and dates straight from a field's UTF-8 bytes, each giving exactly
 * what the text path gives for the same value (inference and the builders rely on that).
 */
import type { ColumnType } from '../../sandbox/index.ts';

/** Missing markers seen in real exports; the owner can replace the set per column. */
export const DEFAULT_MISSING = ['', 'NA', 'N/A', 'n/a', 'na', 'NaN', 'nan', 'NULL', 'null', 'Null', 'None', 'none', '?', '-', '#N/A', 'missing'];

export const INT = /^[+-]?\d{1,15}$/;
export const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
export const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
export const TRUE = new Set(['true', 'TRUE', 'True', 'yes', 'Yes', 'YES']);
export const FALSE = new Set(['false', 'FALSE', 'False', 'no', 'No', 'NO']);

/** Milliseconds since the epoch for an ISO date or date-time; a time without zone is read as UTC. */
export function parseDate(v: string): number {
  const m = DATE.exec(v);
  if (!m) return NaN;
  const iso = v.length === 10 ? `${v}T00:00:00Z` : m[1] ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`;
  return Date.parse(iso);
}

/** A decimal integer of up to 15 digits, or undefined; faster than a regex and Number(). */
export function parseIntFast(s: string): number | undefined {
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
export function parseDecimalBytes(buf: Uint8Array, a: number, b: number, intOnly: boolean): number | undefined {
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
export function parseDateBytes(buf: Uint8Array, a: number, b: number): number | undefined {
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

/** A stored value as the text a column turned into text holds for it. */
export function valueText(type: ColumnType, x: number): string {
  return type === 'bool' ? (x ? 'true' : 'false') : type === 'datetime' ? new Date(x).toISOString() : String(x);
}
