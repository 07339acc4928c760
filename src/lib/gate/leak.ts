/**
 * The leak scan of the output gate: does an output carry values of the input tables' identifying
 * columns — patient numbers, encounter ids, names, dates of birth — in any everyday form?
 *
 * It thinks in classes, not in instances (docs/SECURITY.md, "The output gate", has the table of
 * forms, what catches each, and what it still misses):
 * - numbers in text, read whole (text.ts): sign, leading zeros, thousands separators, decimals and
 *   exponents, digits glued to letters or punctuation; only the integer part counts, so a weight
 *   0.8222157 is not an identifier while 8222157.5 is;
 * - text identifiers (names, e-mails, codes) as words or glued into longer tokens at any visible
 *   boundary (punctuation, letter/digit, lower/upper case);
 * - dates of birth in their written forms (ISO, US and European with / - ., yyyymmdd, epoch
 *   seconds, milliseconds and nanoseconds);
 * - binary numbers at any offset (binary.ts), and the elements of typed arrays (typed.ts);
 * - containers and encodings, recursively: zip (vetted, zip.ts), gzip, zlib and raw DEFLATE
 *   (inflate.ts) at the start of any buffer or embedded anywhere in it, base64 and base64url, hex,
 *   UTF-16 and UTF-32 text anywhere in a file.
 * All of it under the one budget of the review (budget.ts): what cannot be read inside it blocks.
 *
 * It indexes only columns that can identify someone — named like an identifier or a date of birth,
 * or with mostly distinct values — and integers from 10,000 up: category names ("Caucasian") are
 * what a legitimate model holds, and small numbers are everywhere. It cannot see a value that was
 * transformed (hashed, offset, split, encrypted); the docs say so.
 */
import type { SandboxTable } from '../sandbox/index.ts';
import { runSteps, runStepsAsync } from '../workers/index.ts';
import { ReviewMeter, type ReviewBudget } from './budget.ts';
import { addBinaryForms, KIND_NAMES, scanBinary, scanElements, singleValue, SMALL } from './binary.ts';
import { gzipBody, inflateRaw, plausibleDeflate, zlibBody } from './inflate.ts';
import { IdSet, WordSet } from './sets.ts';
import { byteRuns, CLS, decodeBase64, decodeHex, encodedTokens, scanNumbers, wideViews } from './text.ts';
import { parseNpy, parseSafetensors, pngStreams } from './typed.ts';
import { findEocd, listMembers, readMember, UnreadableError } from './zip.ts';

export interface LeakHit {
  value: string;
  table: string;
  column: string;
  /** How it appeared, outermost first: `text`, `base64/text`, `zip:a.npy/npy:i8`, `gzip/binary:int32le` … */
  encoding: string;
}

export interface LeakIndex {
  /** The columns that were indexed, and why. */
  columns: Array<{
    table: string;
    column: string;
    reason: 'identifier name' | 'high cardinality' | 'date of birth';
    distinct: number;
  }>;
  /** Integer identifiers (≥ {@link MIN_ID}) → index into `columns`. */
  ids: IdSet;
  /** float32 roundings of identifiers ≥ 2^24, which float32 cannot hold exactly. */
  idsF32: IdSet;
  /** Bit v set for every identifier v < 2^24 (binary.ts SMALL). */
  small: Uint8Array;
  /** The 32-bit keys of every binary form of every identifier (binary.ts). */
  words: WordSet;
  /** Dates of birth: day number since 1970-01-01 + {@link DAY_BIAS} → column. */
  days: IdSet;
  /** Text identifiers, lower-cased letters and digits only → column. */
  texts: Map<string, number>;
  /** Their rolling hashes (see {@link textHash}), for the scan's first look. */
  textHashes: WordSet;
  /** Longest text identifier, in bytes. */
  maxText: number;
}

const ID_NAME =
  /(^|_|\b)(id|ids|nbr|mrn|ssn|patient|encounter|person|member|subscriber|name|first_?name|last_?name|surname|email|e_?mail|phone|tel|address|street|zip|postcode|dob|birth)(_|\b|$)|id$/i;
const DOB_NAME = /(^|_|\b)(dob|birth|born)|birth|dob$/i;
/** Smallest integer indexed: smaller ones are counts, sizes and codes everywhere (25 of the real data's ids are below it). */
export const MIN_ID = 10_000;
/** Shortest text identifier indexed, and shortest word of a multi-word one. */
const MIN_TEXT = 4;
const MIN_WORD = 6;
const DAY_BIAS = 1_000_000;
const MS_PER_DAY = 86_400_000;

/** Polynomial hash over lower-cased letters and digits; concatenation-friendly (h(ab) = h(a)·P^|b| + h(b)). */
const P = 0x01000193;
const POW: number[] = [1];
function pow(n: number): number {
  while (POW.length <= n) POW.push(Math.imul(POW[POW.length - 1]!, P) >>> 0);
  return POW[n]!;
}
function textHash(s: Uint8Array): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, P) + c) >>> 0;
  return h || 1;
}
/** Letters and digits of a value, lower-cased, as UTF-8 bytes (other bytes ≥ 0x80 kept as letters). */
function normalizeText(v: string): Uint8Array {
  const b = new TextEncoder().encode(v);
  let o = 0;
  for (const c of b) if (CLS[c]! & 39 /* digit, lower, upper, high */) b[o++] = c >= 65 && c <= 90 ? c | 32 : c;
  return b.subarray(0, o);
}

/**
 * Indexes the identifying values of the input tables.
 * @param options.highCardinality share of distinct values above which a column counts as identifying
 */
export function buildLeakIndex(tables: SandboxTable[], options: { highCardinality?: number } = {}): LeakIndex {
  return runSteps(leakIndexSteps(tables, options));
}

/**
 * {@link buildLeakIndex} in slices between the page's other tasks: the owner's run builds it while
 * the notebook runs (it depends only on the tables).
 */
export function prepareLeakIndex(tables: SandboxTable[], signal?: AbortSignal): Promise<LeakIndex> {
  return runStepsAsync(leakIndexSteps(tables, {}), signal ? { signal } : {});
}

/** One step per column, and per few thousand identifiers. */
function* leakIndexSteps(
  tables: SandboxTable[],
  options: { highCardinality?: number },
): Generator<void, LeakIndex, void> {
  const ratio = options.highCardinality ?? 0.5;
  const columns: LeakIndex['columns'] = [];
  const numbers: Array<{ col: number; values: number[] }> = [];
  const texts = new Map<string, number>();
  const dayList: Array<[number, number]> = [];
  for (const t of tables) {
    for (const c of t.columns) {
      yield;
      const present = (i: number) => !c.valid || c.valid[i];
      if (c.type === 'datetime' && DOB_NAME.test(c.name)) {
        const days = new Set<number>();
        for (let i = 0; i < c.values.length; i++)
          if (present(i) && Number.isFinite(c.values[i])) days.add(Math.floor(c.values[i]! / MS_PER_DAY));
        const col = columns.push({ table: t.name, column: c.name, reason: 'date of birth', distinct: days.size }) - 1;
        for (const d of days) dayList.push([d, col]);
        continue;
      }
      if (c.type !== 'string' && c.type !== 'int') continue;
      const distinct = new Set<string | number>();
      if (c.type === 'string') for (const code of c.values) if (code >= 0) distinct.add(c.dictionary![code]!);
      if (c.type === 'int') for (let i = 0; i < c.values.length; i++) if (present(i)) distinct.add(c.values[i]!);
      const byName = ID_NAME.test(c.name);
      const byCardinality = t.rowCount >= 100 && distinct.size >= 100 && distinct.size / t.rowCount > ratio;
      if (!byName && !byCardinality) continue;
      const col =
        columns.push({
          table: t.name,
          column: c.name,
          reason: byName ? 'identifier name' : 'high cardinality',
          distinct: distinct.size,
        }) - 1;
      const nums: number[] = [];
      numbers.push({ col, values: nums });
      for (const raw of distinct) {
        if (typeof raw === 'number') {
          if (Number.isSafeInteger(raw) && Math.abs(raw) >= MIN_ID) nums.push(Math.abs(raw));
          continue;
        }
        const v = raw.trim();
        // Digits (with leading zeros, a sign): a number. Letters: text; its long digit runs are numbers too (MRN-0012345).
        if (/^[+-]?\d+$/.test(v)) {
          const n = Number(v.replace(/^[+-]/, ''));
          if (Number.isSafeInteger(n) && n >= MIN_ID) nums.push(n);
          continue;
        }
        for (const run of v.match(/\d{6,16}/g) ?? []) if (Number(run) >= MIN_ID) nums.push(Number(run));
        const norm = normalizeText(v);
        if (norm.length >= MIN_TEXT) texts.set(latin1(norm), col);
        const words = v.split(/[^\p{L}\p{N}]+/u);
        if (words.length > 1)
          for (const w of words) {
            const wn = normalizeText(w);
            if (wn.length >= MIN_WORD && !texts.has(latin1(wn))) texts.set(latin1(wn), col);
          }
      }
    }
  }
  const ids = new IdSet(numbers.reduce((s, n) => s + n.values.length, 0));
  for (const { col, values } of numbers) for (const v of values) ids.add(v, col);
  const small = new Uint8Array(SMALL >>> 3);
  const idsF32 = new IdSet(ids.size);
  const words = new WordSet(ids.size * 6);
  let n = 0;
  for (const v of ids.values()) {
    if (++n % 4096 === 0) yield;
    addBinaryForms(words, v);
    if (v >= 2 ** 24) idsF32.add(Math.fround(v), ids.get(v));
    else small[v >>> 3]! |= 1 << (v & 7);
  }
  const days = new IdSet(dayList.length);
  for (const [d, col] of dayList) days.add(d + DAY_BIAS, col);
  const textHashes = new WordSet(texts.size);
  let maxText = 0;
  for (const k of texts.keys()) {
    const b = Uint8Array.from(k, (ch) => ch.charCodeAt(0));
    textHashes.add(textHash(b), 1);
    maxText = Math.max(maxText, b.length);
  }
  return { columns, ids, idsF32, small, words, days, texts, textHashes, maxText };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c);
  return s;
}

/** What a scan of one output found. */
export interface LeakScan {
  hits: LeakHit[];
  /** One line per part that could not be read consistently (a bad zip, a corrupt stream, too deep). */
  unreadable: string[];
}

interface Ctx {
  index: LeakIndex;
  meter: ReviewMeter;
  hits: LeakHit[];
  seen: Set<string>;
  unreadable: string[];
  limit: number;
  path: string;
}

function full(ctx: Ctx): boolean {
  return ctx.hits.length >= ctx.limit;
}

function record(ctx: Ctx, value: string, col: number, encoding: string): boolean {
  const key = `${col}:${value}`;
  if (!ctx.seen.has(key) && !full(ctx)) {
    ctx.seen.add(key);
    const c = ctx.index.columns[col]!;
    ctx.hits.push({ value, table: c.table, column: c.column, encoding });
  }
  return full(ctx);
}

/**
 * Scans one output for identifying values.
 * @param options.limit stop after this many distinct values (the report needs a few, not all)
 * @param options.meter the review's running budget; a fresh default one if absent
 * @throws {ReviewLimitError} when the review's budget runs out
 */
export function scanOutput(
  bytes: Uint8Array,
  index: LeakIndex,
  options: { limit?: number; meter?: ReviewMeter; path?: string } = {},
): LeakScan {
  const ctx: Ctx = {
    index,
    meter: options.meter ?? new ReviewMeter(),
    hits: [],
    seen: new Set(),
    unreadable: [],
    limit: options.limit ?? 50,
    path: options.path ?? 'the output',
  };
  if (index.columns.length) scanBlob(bytes, ctx, 0, '', { top: true });
  return { hits: ctx.hits, unreadable: ctx.unreadable };
}

/**
 * Scans one output for identifying values (the hits only; see {@link scanOutput}).
 * @throws {ReviewLimitError}
 */
export function scanForLeaks(
  bytes: Uint8Array,
  index: LeakIndex,
  options: { limit?: number; budget?: Partial<ReviewBudget> } = {},
): LeakHit[] {
  return scanOutput(bytes, index, { limit: options.limit, meter: new ReviewMeter(options.budget) }).hits;
}

interface BlobOptions {
  /** Only text scanners (a narrowed UTF-16/32 view holds no binary). */
  textOnly?: boolean;
  /** Decoded from a short encoding: exactly 4 or 8 bytes are one binary value. */
  exact?: boolean;
  /** A whole output or a zip member: a container it starts as must read, or it blocks. */
  top?: boolean;
  /** The output of a decompression (no raw-DEFLATE guess on it). */
  decompressed?: boolean;
}

/** The first 256 bytes are printable ASCII or UTF-8: text, which raw DEFLATE almost never is. */
function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 256);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 9 || (c > 13 && c < 32) || c === 127) return false;
  }
  return true;
}

function scanBlob(b: Uint8Array, ctx: Ctx, depth: number, label: string, opts: BlobOptions): void {
  const { meter } = ctx;
  const where = `${ctx.path}${label ? ` (${label.replace(/\/$/, '')})` : ''}`;
  if (depth > meter.budget.maxDepth) {
    ctx.unreadable.push(`${where} nests containers or encodings more than ${meter.budget.maxDepth} deep`);
    return;
  }
  meter.chargeScanned(b.length, ctx.path);
  meter.checkTime(ctx.path);
  if (full(ctx) || !b.length) return;

  // Containers the buffer starts as.
  // A buffer that claims to be a zip is read through its directory or blocked, never searched for
  // loose local headers (each would re-inflate the overlapping members the directory check refuses).
  let zipRead = false;
  if (!opts.textOnly) {
    const eocd = b.length >= 22 ? findEocd(b) : -1;
    const startsZip = b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4;
    if (startsZip || eocd >= 0) {
      zipRead = true;
      try {
        for (const m of listMembers(b, meter, ctx.path)) {
          if (m.name.endsWith('/')) continue;
          const data = readMember(m, meter, ctx.path);
          scanBlob(data, ctx, depth + 1, `${label}zip:${m.name}/`, { top: true });
          if (full(ctx)) return;
        }
      } catch (e) {
        if (!(e instanceof UnreadableError)) throw e;
        if (startsZip || opts.top) ctx.unreadable.push(`${where} is a zip that cannot be read safely: ${e.message}`);
      }
    }
    const gz = gzipBody(b, 0);
    const zl = gz < 0 ? zlibBody(b, 0) : -1;
    const png = pngStreams(b);
    const npy = parseNpy(b);
    const safe = npy ? null : parseSafetensors(b);
    if (gz >= 0 || (zl >= 0 && plausibleDeflate(b, zl))) {
      const r = inflateRaw(b.subarray(gz >= 0 ? gz : zl), meter, ctx.path);
      if (r.ok) meter.chargeEntry(ctx.path);
      else if (gz >= 0 || opts.top)
        ctx.unreadable.push(`${where} is a ${gz >= 0 ? 'gzip' : 'zlib'} stream that does not decompress`);
      scanBlob(r.data, ctx, depth + 1, `${label}${gz >= 0 ? 'gzip' : 'zlib'}/`, { decompressed: true });
      if (full(ctx)) return;
    } else if (png) {
      for (const s of png) {
        const body = zlibBody(s.zlib, 0);
        const r =
          body >= 0 ? inflateRaw(s.zlib.subarray(body), meter, ctx.path) : { data: new Uint8Array(), ok: false };
        if (r.ok) meter.chargeEntry(ctx.path);
        else ctx.unreadable.push(`${where} is a PNG whose ${s.name} data does not decompress`);
        scanBlob(r.data, ctx, depth + 1, `${label}png:${s.name}/`, { decompressed: true });
        if (full(ctx)) return;
      }
    } else if (!zipRead && !npy && !safe && !opts.decompressed && !looksLikeText(b) && plausibleDeflate(b, 0)) {
      // Raw DEFLATE has no header: try it where a buffer of no known format starts (a
      // zlib.compressobj(wbits=-15) dump, base64 of one). Not on what was itself decompressed: random
      // bytes sometimes decode as DEFLATE for a long way, and that must not cascade.
      const r = inflateRaw(b, meter, ctx.path);
      if (r.ok) {
        meter.chargeEntry(ctx.path);
        scanBlob(r.data, ctx, depth + 1, `${label}deflate/`, { decompressed: true });
      }
      if (full(ctx)) return;
    }
    const typed = npy ? [npy] : (safe ?? []);
    for (const t of typed) {
      const enc = `${label}${npy ? 'npy' : `safetensors:${t.name}`}:${t.type}`;
      scanElements(
        t.body,
        t.type,
        t.little,
        ctx.index,
        (v) => record(ctx, String(v), ctx.index.ids.get(v) >= 0 ? ctx.index.ids.get(v) : ctx.index.idsF32.get(v), enc),
        () => meter.checkTime(ctx.path),
      );
      if (full(ctx)) return;
    }
  }

  // Text: numbers, dates, text identifiers.
  scanTextForms(b, ctx, `${label}text`);
  if (full(ctx)) return;
  meter.checkTime(ctx.path);

  // Encodings inside the text.
  encodedTokens(b, (t) => {
    const decoded = t.kind === 'hex' ? decodeHex(b, t.start, t.end) : decodeBase64(b, t.start, t.end);
    if (decoded.length < 4) return false;
    scanBlob(decoded, ctx, depth + 1, `${label}${t.kind}/`, { exact: t.exact });
    return full(ctx);
  });
  if (full(ctx)) return;
  byteRuns(b, (bytes) => {
    scanBlob(bytes, ctx, depth + 1, `${label}escaped/`, { exact: bytes.length === 4 || bytes.length === 8 });
    return full(ctx);
  });
  if (full(ctx)) return;
  for (const v of wideViews(b)) {
    scanBlob(v.text, ctx, depth + 1, `${label}${v.name}/`, { textOnly: true });
    if (full(ctx)) return;
  }
  if (opts.textOnly) return;

  // Binary numbers.
  if (opts.exact) {
    const one = singleValue(b, ctx.index);
    if (one && record(ctx, String(one.value), colOf(ctx.index, one.value), `${label}binary:${KIND_NAMES[one.kind]}`))
      return;
  }
  const bin = scanBinary(b, ctx.index, () => meter.checkTime(ctx.path));
  for (const h of bin.structured)
    if (record(ctx, String(h.value), colOf(ctx.index, h.value), `${label}binary:${KIND_NAMES[h.kind]}`)) return;

  // Compressed streams embedded anywhere: gzip members and zip local headers (both have headers that
  // chance bytes do not imitate). Not bare zlib: its two-byte header turns up every ~16 KiB of random
  // bytes, and random bytes can decode as DEFLATE for megabytes (fflate does not check a stored
  // block's length complement past the first block), so the search cost 1 s/MB; docs/SECURITY.md.
  if (!zipRead) scanEmbedded(b, ctx, depth, label);
}

function colOf(index: LeakIndex, v: number): number {
  const c = index.ids.get(v);
  return c >= 0 ? c : index.idsF32.get(v);
}

function scanEmbedded(b: Uint8Array, ctx: Ctx, depth: number, label: string): void {
  const { meter } = ctx;
  const n = b.length;
  for (let i = 1; i + 2 < n; i++) {
    const c = b[i]!;
    if (c !== 0x1f && c !== 0x50) continue;
    let body = -1;
    let kind = '';
    let end = n;
    if (c === 0x1f) {
      body = gzipBody(b, i);
      kind = 'gzip';
    } else if (b[i + 1] === 0x4b && b[i + 2] === 3 && b[i + 3] === 4 && i + 30 <= n) {
      // A local file header outside any archive we read: inflate its member (method 8) as far as it goes.
      const method = b[i + 8]! | (b[i + 9]! << 8);
      const csize = (b[i + 18]! | (b[i + 19]! << 8) | (b[i + 20]! << 16) | (b[i + 21]! << 24)) >>> 0;
      const start = i + 30 + (b[i + 26]! | (b[i + 27]! << 8)) + (b[i + 28]! | (b[i + 29]! << 8));
      if (method === 8 && start < n) {
        body = start;
        kind = 'zip-member';
        if (csize && csize !== 0xffffffff) end = Math.min(n, start + csize);
      }
    }
    if (body < 0 || !plausibleDeflate(b, body)) continue;
    meter.checkTime(ctx.path);
    const r = inflateRaw(b.subarray(body, end), meter, ctx.path);
    if (r.ok) meter.chargeEntry(ctx.path);
    if (r.data.length) scanBlob(r.data, ctx, depth + 1, `${label}${kind}@${i}/`, { decompressed: true });
    if (full(ctx)) return;
  }
}

const DATE_YMD = /(?<![0-9])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![0-9])/g;
const DATE_XXY = /(?<![0-9])(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?![0-9])/g;
const MONTHS = 'jan feb mar apr may jun jul aug sep oct nov dec'.split(' ');
const MON = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\\.?';
/** 12 Apr 1961, 12-Apr-1961, 12 April 1961 */
const DATE_DMY = new RegExp(`(?<![0-9])(\\d{1,2})[ -]${MON}[ ,-]+(\\d{4})(?![0-9])`, 'gi');
/** April 12, 1961; Apr 12 1961 */
const DATE_MDY = new RegExp(`(?<![a-z])${MON} (\\d{1,2})(?:st|nd|rd|th)?,? (\\d{4})(?![0-9])`, 'gi');

function dayOf(y: number, m: number, d: number): number | null {
  if (m < 1 || m > 12 || d < 1 || d > 31) return null;
  const t = Date.UTC(y, m - 1, d);
  const back = new Date(t);
  return back.getUTCDate() === d ? Math.floor(t / MS_PER_DAY) : null;
}

function scanTextForms(b: Uint8Array, ctx: Ctx, encoding: string): void {
  const { index } = ctx;
  const hasDates = index.days.size > 0;
  const dateHit = (day: number | null, shown: string) => {
    if (day === null) return false;
    const col = index.days.get(day + DAY_BIAS);
    return col >= 0 && record(ctx, shown, col, encoding);
  };
  scanNumbers(
    b,
    (v) => {
      const col = index.ids.get(v);
      return col >= 0 && record(ctx, String(v), col, encoding);
    },
    hasDates
      ? (digits, v, negative) => {
          if (digits === 8 && !negative) {
            const day = dayOf(Math.floor(v / 10000), Math.floor(v / 100) % 100, v % 100);
            if (dateHit(day, String(v))) return true;
          }
          const signed = negative ? -v : v;
          // Epoch seconds, milliseconds, nanoseconds at midnight UTC (how dates are stored without a time).
          for (const unit of [86_400, MS_PER_DAY, 86_400e9]) {
            const day = signed / unit;
            if (digits >= 5 && Math.abs(day - Math.round(day)) < 1e-9 && dateHit(Math.round(day), String(signed)))
              return true;
          }
          return false;
        }
      : undefined,
  );
  if (full(ctx)) return;
  if (hasDates) {
    const s = latin1View(b);
    for (const m of s.matchAll(DATE_YMD)) if (dateHit(dayOf(+m[1]!, +m[3]!, +m[4]!), m[0])) return;
    for (const m of s.matchAll(DATE_XXY)) {
      // 04/12/1961 is 4 December in Europe and 12 April in the US: both readings count.
      if (dateHit(dayOf(+m[4]!, +m[3]!, +m[1]!), m[0]) || dateHit(dayOf(+m[4]!, +m[1]!, +m[3]!), m[0])) return;
    }
    const month = (name: string) => MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1;
    for (const m of s.matchAll(DATE_DMY)) if (dateHit(dayOf(+m[3]!, month(m[2]!), +m[1]!), m[0])) return;
    for (const m of s.matchAll(DATE_MDY)) if (dateHit(dayOf(+m[3]!, month(m[1]!), +m[2]!), m[0])) return;
  }
  if (index.texts.size) scanTextIds(b, ctx, encoding);
}

function latin1View(b: Uint8Array): string {
  return new TextDecoder('latin1').decode(b);
}

/** How many consecutive pieces a text identifier may span ("john" "." "smith" "@" "example" "." "org"). */
const MAX_PIECES = 8;

/**
 * Text identifiers as words or glued into longer tokens. The text is cut into pieces at every
 * boundary a reader sees — punctuation, a change between letters and digits, lower to upper case —
 * and every run of up to {@link MAX_PIECES} consecutive pieces (joined over single separators, not
 * over line ends) is compared, lower-cased, with the identifiers' letters and digits. So
 * `patient_JohnSmith`, `id:MRN-00123`, `John.Smith@example.org` match; a name inside a run of
 * same-case letters (`xsmithy`) does not: there "ann" would also be in "annual".
 */
function scanTextIds(b: Uint8Array, ctx: Ctx, encoding: string): void {
  const { index } = ctx;
  const hs = new Uint32Array(MAX_PIECES);
  const lens = new Int32Array(MAX_PIECES);
  const starts = new Int32Array(MAX_PIECES);
  let count = 0;
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    const k = CLS[c]!;
    if (!(k & 39)) {
      // A single separator between two pieces (not a line end) joins them; anything more cuts the chain.
      const single = i > 0 && CLS[b[i - 1]!]! & 39 && i + 1 < n && CLS[b[i + 1]!]! & 39 && c !== 10 && c !== 13;
      if (!single) count = 0;
      i++;
      continue;
    }
    // One piece: a digit run, or a word (capitals then lower case: "HTMLParser" is "HTML" "Parser").
    const s = i;
    if (k & 1) while (i < n && CLS[b[i]!]! & 1) i++;
    else {
      if (k & 4) {
        while (i < n && CLS[b[i]!]! & 4) i++;
        if (i - s > 1 && i < n && CLS[b[i]!]! & 2) i--;
      }
      while (i < n && CLS[b[i]!]! & 34) i++;
    }
    let h = 0;
    for (let q = s; q < i; q++) {
      const ch = b[q]!;
      h = (Math.imul(h, P) + (ch >= 65 && ch <= 90 ? ch | 32 : ch)) >>> 0;
    }
    const len = i - s;
    // Extend the runs ending at the previous piece by this one.
    const m = Math.min(count, MAX_PIECES - 1);
    for (let q = m; q > 0; q--) {
      hs[q] = (Math.imul(hs[q - 1]!, pow(len)) + h) >>> 0;
      lens[q] = lens[q - 1]! + len;
      starts[q] = starts[q - 1]!;
    }
    hs[0] = h;
    lens[0] = len;
    starts[0] = s;
    count = m + 1;
    for (let q = 0; q < count; q++) {
      if (lens[q]! > index.maxText) break;
      if (lens[q]! < MIN_TEXT || !index.textHashes.get(hs[q]! || 1)) continue;
      const norm = latin1(normalizeBytes(b.subarray(starts[q]!, i)));
      const col = index.texts.get(norm);
      if (col !== undefined && record(ctx, norm, col, encoding)) return;
    }
  }
}

function normalizeBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let o = 0;
  for (const c of b) if (CLS[c]! & 39) out[o++] = c >= 65 && c <= 90 ? c | 32 : c;
  return out.subarray(0, o);
}
