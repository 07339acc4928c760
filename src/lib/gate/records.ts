/**
 * An output read as records and numbers, for the checks on models (docs/DISCLOSURE.md):
 *
 * - **records**: runs of values that sit together the way a stored row would — an array of scalars,
 *   an object's scalar values, a dictionary key made of several values (`"5|43|Female"`), the rows of
 *   a 2-D array (.npy, safetensors, JSON lists of lists), equal-length arrays side by side (a
 *   column-major table), a line of CSV, TSV or text. The row check (rows.ts) looks each one up in
 *   the training rows;
 * - **numbers**: how many numbers the file holds — elements of typed arrays, numbers written in
 *   text — the "parameters" of the size check. Formats read as opaque bytes (ONNX, Parquet) count
 *   one number per 4 bytes, marked as estimated.
 *
 * Values come back as canonical tokens (tokens.ts), so `5`, `5.0` and float32 5 are one value.
 */
import type { ElementType } from './binary.ts';
import type { ReviewMeter } from './budget.ts';
import { parseNpy, parseSafetensors, type TypedArrayRef } from './typed.ts';
import { canonNumber, canonText } from './tokens.ts';
import { findEocd, listMembers, readMember, UnreadableError } from './zip.ts';

export interface OutputRecords {
  records: string[][];
  /** Records seen, kept or not (only the first {@link MAX_RECORDS} are kept). */
  seen: number;
  numbers: number;
  /** Some of `numbers` is an estimate from a format read as bytes. */
  estimated: boolean;
  /** An image: neither records nor parameters. */
  image: boolean;
}

export const MAX_RECORDS = 200_000;
/** Shortest record the row check considers: fewer values match some row by chance. */
export const MIN_RECORD = 4;

const SIZES: Record<ElementType, number> = { i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, f4: 4, i8: 8, u8: 8, f8: 8 };
const SEPARATORS = /[\s|;,=:]+/;

/** Shortest decimal that a float32 reads back as: 0.1f is "0.1", not 0.10000000149011612. */
function canonFloat32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return canonNumber(v);
  for (let p = 1; p <= 9; p++) {
    const x = Number(v.toPrecision(p));
    if (Math.fround(x) === v) return canonNumber(x);
  }
  return canonNumber(v);
}

function element(dv: DataView, i: number, type: ElementType, little: boolean): string {
  const o = i * SIZES[type];
  switch (type) {
    case 'i1':
      return String(dv.getInt8(o));
    case 'u1':
      return String(dv.getUint8(o));
    case 'i2':
      return String(dv.getInt16(o, little));
    case 'u2':
      return String(dv.getUint16(o, little));
    case 'i4':
      return String(dv.getInt32(o, little));
    case 'u4':
      return String(dv.getUint32(o, little));
    case 'i8':
      return dv.getBigInt64(o, little).toString();
    case 'u8':
      return dv.getBigUint64(o, little).toString();
    case 'f4':
      return canonFloat32(dv.getFloat32(o, little));
    case 'f8':
      return canonNumber(dv.getFloat64(o, little));
  }
}

/** Numbers written in text: digit runs not glued to a word, read whole (sign, decimals, exponent). */
export function countTextNumbers(b: Uint8Array): number {
  let n = 0;
  const word = (c: number) =>
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) continue;
    if (i > 0 && word(b[i - 1]!) && !(b[i - 1] === 46 && !(i > 1 && word(b[i - 2]!)))) continue;
    n++;
    while (i < b.length) {
      const d = b[i]!;
      if ((d >= 48 && d <= 57) || d === 46) i++;
      else if (
        (d === 101 || d === 69) &&
        i + 1 < b.length &&
        (b[i + 1] === 45 || b[i + 1] === 43 || (b[i + 1]! >= 48 && b[i + 1]! <= 57))
      )
        i += 2;
      else break;
    }
  }
  return n;
}

class Collector {
  records: string[][] = [];
  seen = 0;
  numbers = 0;
  estimated = false;
  constructor(
    readonly isKnown: (token: string) => boolean,
    readonly maxWidth: number,
  ) {}
  add(r: string[]): void {
    if (r.length < MIN_RECORD || r.length > this.maxWidth) return;
    this.seen++;
    if (this.records.length < MAX_RECORDS) this.records.push(r);
  }
  /** A text value: one token if the data knows it whole, else its pieces. */
  tokens(s: string): string[] {
    const whole = canonText(s);
    if (this.isKnown(whole) || !SEPARATORS.test(s.trim())) return [whole];
    return s
      .split(SEPARATORS)
      .filter(Boolean)
      .map((p) => canonText(p.replace(/^["'([{]+|["')\]}]+$/g, '')));
  }
}

function scalarTokens(v: unknown, c: Collector): string[] | null {
  if (typeof v === 'number') return [canonNumber(v)];
  if (typeof v === 'boolean') return [v ? '1' : '0'];
  if (typeof v === 'string') return c.tokens(v);
  if (v === null) return [];
  return null;
}

function walkJson(v: unknown, c: Collector, meter: ReviewMeter, what: string, depth = 0): void {
  if (depth > 64) return;
  if ((c.seen & 0xfff) === 0) meter.checkTime(what);
  if (Array.isArray(v)) {
    const scalars = v.map((x) => scalarTokens(x, c));
    if (scalars.every((x) => x !== null)) c.add((scalars as string[][]).flat());
    for (const x of v) if (x && typeof x === 'object') walkJson(x, c, meter, what, depth + 1);
    return;
  }
  if (!v || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  const values = Object.values(o);
  const scalars = values.map((x) => (x && typeof x === 'object' ? null : scalarTokens(x, c))).filter((x) => x !== null);
  c.add((scalars as string[][]).flat());
  // Keys made of several values: a lookup table keyed by a row.
  for (const k of Object.keys(o)) {
    const t = c.tokens(k);
    if (t.length > 1) c.add(t);
  }
  // Equal-length arrays of scalars side by side: a table stored column by column.
  const columns = values.filter(
    (x): x is unknown[] => Array.isArray(x) && x.length >= 2 && x.every((y) => y === null || typeof y !== 'object'),
  );
  const byLength = new Map<number, unknown[][]>();
  for (const a of columns) (byLength.get(a.length) ?? byLength.set(a.length, []).get(a.length)!).push(a);
  for (const [len, cols] of byLength) {
    if (cols.length < 2) continue;
    for (let i = 0; i < len; i++) c.add(cols.flatMap((a) => scalarTokens(a[i], c) ?? []));
  }
  for (const x of values) if (x && typeof x === 'object') walkJson(x, c, meter, what, depth + 1);
}

function readTyped(arrays: TypedArrayRef[], c: Collector, meter: ReviewMeter, what: string): void {
  const oneD: Array<{ len: number; dv: DataView; t: TypedArrayRef }> = [];
  for (const t of arrays) {
    const size = SIZES[t.type];
    const count = Math.floor(t.body.length / size);
    c.numbers += count;
    const dv = new DataView(t.body.buffer, t.body.byteOffset, count * size);
    const shape = t.shape;
    if (shape && shape.length === 2 && shape[0]! * shape[1]! === count && shape[1]! > 0) {
      const [rows, cols] = shape as [number, number];
      if (cols < MIN_RECORD || cols > c.maxWidth) continue;
      for (let r = 0; r < rows; r++) {
        if ((r & 0xfff) === 0) meter.checkTime(what);
        const rec: string[] = [];
        for (let k = 0; k < cols; k++) rec.push(element(dv, t.fortran ? k * rows + r : r * cols + k, t.type, t.little));
        c.add(rec);
      }
    } else if (!shape || shape.length <= 1) oneD.push({ len: count, dv, t });
  }
  // 1-D arrays of one length side by side (an .npz or safetensors of columns).
  const byLength = new Map<number, typeof oneD>();
  for (const a of oneD) (byLength.get(a.len) ?? byLength.set(a.len, []).get(a.len)!).push(a);
  for (const [len, cols] of byLength) {
    if (cols.length < MIN_RECORD) continue;
    for (let i = 0; i < len; i++) {
      if ((i & 0xfff) === 0) meter.checkTime(what);
      c.add(cols.map((a) => element(a.dv, i, a.t.type, a.t.little)));
    }
  }
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) {
    const x = b[i]!;
    if (x < 9 || (x > 13 && x < 32) || x === 127) return false;
  }
  return true;
}

function readBlob(path: string, b: Uint8Array, c: Collector, meter: ReviewMeter, what: string, depth: number): boolean {
  const ext = path.includes('.') ? path.split('.').pop()!.toLowerCase() : '';
  if (ext === 'png' || (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47)) return true;
  const npy = parseNpy(b);
  if (npy) return (readTyped([npy], c, meter, what), false);
  const st = parseSafetensors(b);
  if (st) return (readTyped(st, c, meter, what), false);
  if (depth < 4 && b.length >= 22 && b[0] === 0x50 && b[1] === 0x4b && findEocd(b) >= 0) {
    try {
      const members = listMembers(b, meter, what).filter((m) => !m.name.endsWith('/'));
      const npys: TypedArrayRef[] = [];
      for (const m of members) {
        const data = readMember(m, meter, what);
        const a = parseNpy(data);
        if (a) npys.push({ ...a, name: m.name });
        else readBlob(m.name, data, c, meter, what, depth + 1);
      }
      readTyped(npys, c, meter, what);
      return false;
    } catch (e) {
      if (!(e instanceof UnreadableError)) throw e; // the leak scan reports an unreadable archive
    }
  }
  if (!looksLikeText(b)) {
    // ONNX, Parquet and other binary: one number per 4 bytes at most (float32), as an estimate.
    c.numbers += Math.floor(b.length / 4);
    c.estimated = true;
    return false;
  }
  meter.checkTime(what);
  c.numbers += countTextNumbers(b);
  const text = new TextDecoder().decode(b);
  const trimmed = text.trimStart();
  if (ext === 'json' || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      walkJson(JSON.parse(text), c, meter, what);
      return false;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
  }
  const delimiter = ext === 'csv' ? ',' : ext === 'tsv' ? '\t' : null;
  let i = 0;
  for (const line of text.split(/\r?\n/)) {
    if ((++i & 0xfff) === 0) meter.checkTime(what);
    if (!line.trim()) continue;
    const cells = delimiter ? line.split(delimiter).map((x) => x.replace(/^"|"$/g, '')) : line.split(/[\s,;|]+/);
    c.add(cells.filter((x) => x !== '').flatMap((x) => c.tokens(x.replace(/^["'([{]+|["')\]}]+$/g, ''))));
  }
  return false;
}

/**
 * Reads an output's records and counts its numbers.
 * @param isKnown whether a canonical token is a value of the data (a text value is then kept whole)
 * @param maxWidth longest record kept: a stored row has at most about as many values as the table
 *   has columns
 */
export function readRecords(
  path: string,
  bytes: Uint8Array,
  isKnown: (token: string) => boolean,
  maxWidth: number,
  meter: ReviewMeter,
): OutputRecords {
  const c = new Collector(isKnown, maxWidth);
  const image = readBlob(path, bytes, c, meter, path, 0);
  return { records: c.records, seen: c.seen, numbers: image ? 0 : c.numbers, estimated: c.estimated, image };
}
