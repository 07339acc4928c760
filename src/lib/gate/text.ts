/**
 * The text scanners of the leak scan. They read bytes, not decoded strings (digits and the
 * separators of numbers are ASCII in UTF-8, Latin-1 and in the narrowed UTF-16/32 views), in one
 * pass each, and report candidates to a callback that looks them up in the index.
 *
 * Numbers: every number is read whole — sign, leading zeros, thousands separators, decimals,
 * exponent — and its *integer part* is what counts: `-8222157`, `0008222157`, `8 222 157`,
 * `8222157.5` and `8.222157e6` are all 8222157, while a weight `0.8222157` is 0 and `8222157e-9` is 0.
 * A digit run glued to letters or punctuation (`patient_8222157`, `id-8222157`, `8222157x`) is a
 * number too. `0x`-prefixed hex (`hex(8222157)`) and bare hex words with a letter (`7d75cd`) are read
 * as integers as well.
 */

/** Byte classes. */
const DIGIT = 1;
const LOWER = 2;
const UPPER = 4;
const HEXL = 8;
const B64X = 16;
const HIGH = 32;
export const CLS = new Uint8Array(256);
for (let c = 48; c <= 57; c++) CLS[c] = DIGIT;
for (let c = 97; c <= 122; c++) CLS[c] = LOWER | (c <= 102 ? HEXL : 0);
for (let c = 65; c <= 90; c++) CLS[c] = UPPER | (c <= 70 ? HEXL : 0);
for (const c of [43, 47, 95, 45]) CLS[c] = B64X; // + / _ -
for (let c = 128; c < 256; c++) CLS[c] = HIGH;
const ALNUM = DIGIT | LOWER | UPPER;

/** Where a candidate came from, for the hit's `encoding`. */
export type NumberForm = 'number' | 'hex-number' | 'date';

export interface NumberSink {
  /** An integer read from the text (its absolute value). Returns true to stop the scan. */
  (value: number, form: NumberForm): boolean | void;
}

/** Shortest hex word read as an integer: 5 hex digits (shorter ones are common words: `cafe`, `add`). */
const MIN_HEX_WORD = 5;
/** An alphanumeric word this long made only of hex digits (with a letter and a digit) is an encoding, not a number carrier. */
const LONG_HEX = 16;

const scratch = new Uint8Array(64);

/**
 * Reads every number of the text and passes its integer part (and, for plain integers, the forms
 * dates of birth take: yyyymmdd, epoch seconds and milliseconds) to `sink`.
 * @param dates also report plain integers for the date-of-birth checks (`onInteger`)
 */
export function scanNumbers(
  b: Uint8Array,
  sink: NumberSink,
  onInteger?: (digits: number, value: number, negative: boolean) => boolean | void,
): void {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    const cls = CLS[c]!;
    if (!(cls & ALNUM)) {
      i++;
      continue;
    }
    const runStart = i === 0 || !(CLS[b[i - 1]!]! & ALNUM);
    if (runStart) {
      // A long word of hex digits (a hash, hex-encoded bytes) carries no decimal numbers; the hex
      // decoder reads it. A short one may be one hex-written integer.
      let e = i;
      let hexOnly = true;
      let letters = 0;
      let digits = 0;
      while (e < n && CLS[b[e]!]! & ALNUM) {
        const k = CLS[b[e]!]!;
        if (k & DIGIT) digits++;
        else if (k & HEXL) letters++;
        else hexOnly = false;
        e++;
      }
      if (hexOnly && letters && digits && e - i >= LONG_HEX) {
        i = e;
        continue;
      }
      // A bare hex word needs a digit and a letter, and is not a float's exponent (12e10) or a colour (#1f77b4).
      const float = letters === 1 && isExponent(b, i, e);
      if (hexOnly && letters && digits && !float && e - i >= MIN_HEX_WORD && e - i <= 13 && b[i - 1] !== 35) {
        if (inText(b, i, e) && sink(parseHex(b, i, e), 'hex-number')) return;
      }
    }
    if (!(cls & DIGIT)) {
      i++;
      continue;
    }
    // 0x-prefixed hex integer.
    if (c === 48 && (b[i + 1] === 120 || b[i + 1] === 88) && CLS[b[i + 2] ?? 0]! & (DIGIT | HEXL)) {
      let e = i + 2;
      while (e < n && CLS[b[e]!]! & (DIGIT | HEXL)) e++;
      if (e - i - 2 <= 13 && sink(parseHex(b, i + 2, e), 'hex-number')) return;
      i = e;
      continue;
    }
    // A digit right after a '.' that follows no digit and no letter starts a bare fraction (.5).
    if (i > 0 && b[i - 1] === 46 && !(i > 1 && CLS[b[i - 2]!]! & ALNUM)) {
      while (i < n && CLS[b[i]!]! & DIGIT) i++;
      continue;
    }
    const negative = i > 0 && b[i - 1] === 45 && !(i > 1 && CLS[b[i - 2]!]! & ALNUM);
    // Integer digits, with thousands separators.
    let nd = 0;
    let j = i;
    while (j < n && CLS[b[j]!]! & DIGIT) {
      if (nd < 64) scratch[nd] = b[j]! - 48;
      nd++;
      j++;
    }
    let decimal = 46; // '.'
    if (nd <= 3) {
      const g = groups(b, j, n);
      if (g.count) {
        for (let k = 0, p = j; k < g.count; k++, p += g.width + 3)
          for (let q = 0; q < 3; q++) if (nd < 64) scratch[nd++] = b[p + g.width + q]! - 48;
        j += g.count * (g.width + 3);
        if (g.sep === 46) decimal = 44; // 8.222.157,5
      }
    }
    const intDigits = nd;
    let plain = true;
    // Fraction.
    if (b[j] === decimal && CLS[b[j + 1] ?? 0]! & DIGIT) {
      plain = false;
      j++;
      while (j < n && CLS[b[j]!]! & DIGIT) {
        if (nd < 64) scratch[nd] = b[j]! - 48;
        nd++;
        j++;
      }
    }
    // Exponent.
    let exp = 0;
    if ((b[j] === 101 || b[j] === 69) && j + 1 < n) {
      let k = j + 1;
      let sign = 1;
      if (b[k] === 43 || b[k] === 45) {
        if (b[k] === 45) sign = -1;
        k++;
      }
      if (CLS[b[k] ?? 0]! & DIGIT) {
        let e = 0;
        while (k < n && CLS[b[k]!]! & DIGIT) {
          if (e < 1000) e = e * 10 + b[k]! - 48;
          k++;
        }
        exp = sign * e;
        plain = false;
        j = k;
      }
    }
    // The integer part: the digits before the (shifted) point, leading zeros dropped.
    const point = intDigits + exp;
    let start = 0;
    while (start < point && start < nd && scratch[start] === 0) start++;
    const len = point - start;
    if (len >= 1 && len <= 16 && nd <= 64 && (j - i >= 7 || len < 5 || inText(b, i, j))) {
      let v = 0;
      for (let k = start; k < point; k++) v = v * 10 + (k < nd ? scratch[k]! : 0);
      if (sink(v, 'number')) return;
      if (plain && onInteger && onInteger(len, v, negative)) return;
    } else if (plain && onInteger && len > 16 && len <= 19 && nd <= 64) {
      // Epoch nanoseconds (pandas' datetime64[ns]) are 18–19 digits: pass them on for the date check.
      let v = 0;
      for (let k = start; k < point; k++) v = v * 10 + scratch[k]!;
      if (onInteger(len, v, negative)) return;
    }
    i = j;
  }
}

const PRINTABLE = new Uint8Array(256);
for (let c = 32; c < 127; c++) PRINTABLE[c] = 1;
PRINTABLE[9] = PRINTABLE[10] = PRINTABLE[13] = 1;
/** Printable characters around a number that make it text rather than chance bytes in binary. */
const CONTEXT = 8;

/**
 * Whether the number at [s, e) sits in text: its run of printable characters is at least 8 long
 * (or the whole buffer). In random or compressed bytes a run of 5–6 digits turns up every ~10 MB,
 * and would match one of the real data's ids 0.2–0.3% of the time; three more printable neighbours
 * cut that 20-fold (0.37³). Numbers of 7 digits and more are rare enough in binary to count anywhere.
 */
function inText(b: Uint8Array, s: number, e: number): boolean {
  const need = Math.min(CONTEXT, b.length);
  let run = e - s;
  for (let k = s - 1; k >= 0 && run < need && PRINTABLE[b[k]!]; k--) run++;
  for (let k = e; k < b.length && run < need && PRINTABLE[b[k]!]; k++) run++;
  return run >= need;
}

/** Thousands groups after a 1–3 digit run at `j`: `,ddd` (at least two, so "123,456" in a CSV is two numbers), `.ddd` (at least two), or ` ddd`, `_ddd`, `'ddd`, no-break spaces (at least one). */
function groups(b: Uint8Array, j: number, n: number): { count: number; sep: number; width: number } {
  const none = { count: 0, sep: 0, width: 0 };
  let sep = b[j];
  let width = 1;
  if (sep === undefined) return none;
  if (sep === 0xc2 && b[j + 1] === 0xa0) width = 2;
  else if (sep === 0xe2 && b[j + 1] === 0x80 && (b[j + 2] === 0xaf || b[j + 2] === 0x89)) width = 3;
  else if (sep !== 44 && sep !== 46 && sep !== 32 && sep !== 95 && sep !== 39) return none;
  let count = 0;
  let p = j;
  for (;;) {
    let same = true;
    for (let w = 0; w < width; w++) if (b[p + w] !== b[j + w]) same = false;
    if (!same || p + width + 3 > n) break;
    const d0 = b[p + width]!;
    const d1 = b[p + width + 1]!;
    const d2 = b[p + width + 2]!;
    if (!(CLS[d0]! & CLS[d1]! & CLS[d2]! & DIGIT)) break;
    if (p + width + 3 < n && CLS[b[p + width + 3]!]! & DIGIT) break;
    count++;
    p += width + 3;
  }
  if (width === 1 && (sep === 44 || sep === 46) && count < 2) {
    // One comma group counts when a decimal point follows (12,345.67).
    if (sep === 44 && count === 1 && b[j + 4] === 46 && CLS[b[j + 5] ?? 0]! & DIGIT) return { count, sep, width };
    return none;
  }
  sep = width === 1 ? sep : 0;
  return { count, sep, width };
}

function indexOfE(b: Uint8Array, s: number, e: number): number {
  for (let k = s; k < e; k++) if ((b[k]! | 32) === 101) return k - s;
  return -1;
}

/** `12e10`: digits, one e, digits. */
function isExponent(b: Uint8Array, s: number, e: number): boolean {
  const k = indexOfE(b, s, e);
  return k > 0 && s + k < e - 1;
}

function parseHex(b: Uint8Array, s: number, e: number): number {
  let v = 0;
  for (let k = s; k < e; k++) {
    const c = b[k]!;
    v = v * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return v;
}

export interface EncodedToken {
  start: number;
  end: number;
  kind: 'base64' | 'hex';
  /** base64 with `=` padding, or a hex word: a decoded length of exactly 4 or 8 bytes is one binary value. */
  exact: boolean;
}

/**
 * Words that may be base64 (standard or URL alphabet) or hex: at least 6 characters with padding
 * or 8 without (one id's digits or one int32/float64 in base64 is that short). Ordinary words —
 * all lower case, all upper case, a capitalised word, all digits — are skipped (they decode to noise,
 * and reading them all would cost).
 */
export function encodedTokens(b: Uint8Array, each: (t: EncodedToken) => boolean | void): void {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c0 = CLS[b[i]!]!;
    if (!(c0 & (ALNUM | B64X))) {
      i++;
      continue;
    }
    let e = i;
    let lower = 0;
    let upper = 0;
    let digit = 0;
    let hexLetters = 0;
    let other = 0;
    let line = i;
    let lines = 0;
    while (e < n) {
      const k = CLS[b[e]!]!;
      if (k & DIGIT) digit++;
      else if (k & LOWER) lower++;
      else if (k & UPPER) upper++;
      else if (k & B64X) other++;
      else {
        // MIME base64 (base64.encodebytes, PEM) breaks lines every 76 or 64 characters: one token.
        const nl = b[e] === 10 ? 1 : b[e] === 13 && b[e + 1] === 10 ? 2 : 0;
        if (nl && e - line >= 60 && (e - line) % 4 === 0 && CLS[b[e + nl] ?? 0]! & (ALNUM | B64X)) {
          e += nl;
          line = e;
          lines++;
          continue;
        }
        break;
      }
      if (k & HEXL) hexLetters++;
      e++;
    }
    if (lines) other++; // not hex, and never an ordinary word
    let pad = 0;
    while (e + pad < n && b[e + pad] === 61 && pad < 2) pad++;
    const len = e - i - lines;
    if (!other && hexLetters === lower + upper && (lower === 0 || upper === 0) && len >= 8 && len % 2 === 0) {
      // Hex. All-digit words decode to text only when they are the hex of digits (pairs 3x).
      let digitsText = true;
      if (!hexLetters) for (let k = i; k < e; k += 2) if (b[k] !== 51) digitsText = false;
      if (hexLetters || digitsText)
        if (each({ start: i, end: e, kind: 'hex', exact: hexLetters > 0 && (len === 8 || len === 16) })) return;
    }
    const ordinary = !other && !digit && (upper === 0 || lower === 0 || (upper === 1 && CLS[b[i]!]! & UPPER));
    if ((len >= 8 || (pad && len >= 6)) && !ordinary && digit !== len) {
      if (each({ start: i, end: e, kind: 'base64', exact: pad > 0 })) return;
    }
    i = e + pad + (e + pad === i ? 1 : 0);
  }
}

const B64 = new Int8Array(256).fill(-1);
for (let k = 0; k < 64; k++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(k)] = k;
B64[45] = 62; // base64url '-'
B64[95] = 63; // base64url '_'

/** Decodes base64 or base64url leniently (no padding needed; a dangling sixth of a byte dropped). */
export function decodeBase64(b: Uint8Array, s: number, e: number): Uint8Array {
  const out = new Uint8Array(Math.floor(((e - s) * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let k = s; k < e; k++) {
    const v = B64[b[k]!]!;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

export function decodeHex(b: Uint8Array, s: number, e: number): Uint8Array {
  const out = new Uint8Array((e - s) >> 1);
  for (let k = s, o = 0; k + 1 < e; k += 2, o++) {
    const h = b[k]!;
    const l = b[k + 1]!;
    out[o] = ((h <= 57 ? h - 48 : (h | 32) - 87) << 4) | (l <= 57 ? l - 48 : (l | 32) - 87);
  }
  return out;
}

/**
 * The ASCII text of UTF-16 or UTF-32 anywhere in a file: for each code-unit width and byte order,
 * the runs of at least 5 units that are one printable ASCII character and zero bytes, joined by
 * spaces. Finding wide text that starts at any offset, not only a first-KiB sniff. Runs are found
 * from the zero bytes (native `indexOf`), so text without zeros costs one search and binary
 * costs a few checks per zero byte.
 */
export function wideViews(b: Uint8Array): Array<{ name: string; text: Uint8Array }> {
  const n = b.length;
  const printable = (c: number | undefined) =>
    c !== undefined && ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13);
  // A unit of width w starting at u: LE puts the character first, BE last; the rest are zeros.
  const unitChar = (u: number, w: number, big: boolean): number => {
    if (u < 0 || u + w > n) return -1;
    const ch = b[big ? u + w - 1 : u]!;
    if (!printable(ch)) return -1;
    for (let k = 0; k < w - 1; k++) if (b[big ? u + k : u + 1 + k] !== 0) return -1;
    return ch;
  };
  const forms: Array<[number, boolean]> = [
    [2, false],
    [2, true],
    [4, false],
    [4, true],
  ];
  const runs = new Map<string, number[][]>();
  const covered = [0, 0, 0, 0];
  for (let z = b.indexOf(0); z >= 0 && z < n; z = b.indexOf(0, z + 1)) {
    // A run of zeros [z, last]: an LE unit has its character just before the run, a BE unit just after.
    let last = z;
    while (last + 1 < n && b[last + 1] === 0) last++;
    const before = PRINTABLE[b[z - 1] ?? 0];
    const after = PRINTABLE[b[last + 1] ?? 0];
    if (!before && !after) {
      z = last;
      continue;
    }
    forms.forEach(([w, big], f) => {
      const u = big ? last + 2 - w : z - 1;
      if (u < covered[f]! || unitChar(u, w, big) < 0) return;
      let s = u;
      while (unitChar(s - w, w, big) >= 0) s -= w;
      let e = u;
      while (unitChar(e, w, big) >= 0) e += w;
      covered[f] = e;
      if ((e - s) / w < 5) return;
      const chars: number[] = [];
      for (let q = s; q < e; q += w) chars.push(unitChar(q, w, big));
      const name = `utf-${w * 8}${big ? 'be' : 'le'}`;
      if (!runs.has(name)) runs.set(name, []);
      runs.get(name)!.push(chars);
    });
    z = last;
  }
  const views: Array<{ name: string; text: Uint8Array }> = [];
  for (const [name, list] of runs) {
    const text = new Uint8Array(list.reduce((t, r) => t + r.length + 1, 0));
    let o = 0;
    for (const r of list) {
      text.set(r, o);
      o += r.length;
      text[o++] = 32;
    }
    views.push({ name, text });
  }
  return views;
}

/**
 * Bytes written as escapes or lists, the way a notebook prints a `bytes` value or a hex dump:
 * Python's bytes repr and C or JS strings (backslash-x escapes, the usual one-letter escapes and
 * literal characters between), and lists of hex pairs (`cd 75 7d 00`, `cd:75:7d:00`,
 * `0xcd, 0x75`, the body of `hexdump -C`). At least 4 escapes or 8 pairs; the decoded bytes go
 * through every scanner again.
 */
export function byteRuns(b: Uint8Array, each: (bytes: Uint8Array) => boolean | void): void {
  const n = b.length;
  const hexv = (c: number) => (c <= 57 ? c - 48 : (c | 32) - 87);
  const isHex = (c: number | undefined) => c !== undefined && (CLS[c]! & (DIGIT | HEXL)) !== 0;
  // Escapes: from each backslash-x, the whole escaped string around it.
  for (let z = b.indexOf(92); z >= 0;) {
    if (!(b[z + 1] === 120 && isHex(b[z + 2]) && isHex(b[z + 3]))) {
      z = b.indexOf(92, z + 1);
      continue;
    }
    // Back to the opening quote (or the start of the line).
    let s = z;
    while (s > 0 && b[s - 1] !== 39 && b[s - 1] !== 34 && b[s - 1] !== 10) s--;
    const out: number[] = [];
    let escapes = 0;
    let k = s;
    while (k < n && b[k] !== 39 && b[k] !== 34 && b[k] !== 10) {
      if (b[k] === 92) {
        const c = b[k + 1];
        if (c === 120 && isHex(b[k + 2]) && isHex(b[k + 3])) {
          out.push((hexv(b[k + 2]!) << 4) | hexv(b[k + 3]!));
          escapes++;
          k += 4;
          continue;
        }
        const simple: Record<number, number> = { 110: 10, 114: 13, 116: 9, 48: 0, 92: 92, 39: 39, 34: 34 };
        if (c !== undefined && simple[c] !== undefined) {
          out.push(simple[c]!);
          k += 2;
          continue;
        }
      }
      out.push(b[k]!);
      k++;
    }
    if (escapes >= 4 && each(Uint8Array.from(out))) return;
    z = b.indexOf(92, Math.max(k, z + 1));
  }
  // Lists of hex pairs.
  let i = 0;
  while (i < n) {
    const start = i;
    const bytes: number[] = [];
    let k = i;
    for (;;) {
      let t = k;
      if (b[t] === 48 && (b[t + 1] === 120 || b[t + 1] === 88)) t += 2;
      if (!(
        isHex(b[t]) &&
        isHex(b[t + 1]) &&
        !(CLS[b[t + 2] ?? 0]! & ALNUM) &&
        !(t === k && k > 0 && CLS[b[k - 1]!]! & ALNUM)
      ))
        break;
      bytes.push((hexv(b[t]!) << 4) | hexv(b[t + 1]!));
      k = t + 2;
      // One or two separator characters: space, colon, comma, hyphen, semicolon (", " between 0x items).
      let sep = 0;
      while (sep < 2 && k + sep < n && [32, 58, 44, 45, 59].includes(b[k + sep]!)) sep++;
      if (!sep) break;
      k += sep;
    }
    if (bytes.length >= 8) {
      if (each(Uint8Array.from(bytes))) return;
      i = k;
    } else i = start + 1;
    // Skip to the next place a pair can start.
    while (i < n && !(isHex(b[i]) && !(i > 0 && CLS[b[i - 1]!]! & ALNUM))) i++;
  }
}
