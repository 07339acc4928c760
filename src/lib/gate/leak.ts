/**
 * The leak scan of the output gate: does an output carry values of the input tables' identifying
 * columns — patient numbers, encounter ids, names — verbatim, or encoded (base64, hex, UTF-16), or
 * inside a zip or JSON container?
 *
 * It compares whole tokens, so that an identifier's digits inside a longer number (a weight such as
 * 0.8222157) are not a hit, and it only indexes columns that can identify someone: named like an
 * identifier, or with mostly distinct values. Category names from low-cardinality columns ("Caucasian")
 * are what a legitimate model contains, and are not indexed. It cannot see a value that was
 * transformed (hashed, offset, split); the docs say so.
 */
import { unzipSync } from 'fflate';
import { base64, hex } from '@scure/base';
import type { SandboxTable } from '../sandbox/index.ts';

export interface LeakHit {
  value: string;
  table: string;
  column: string;
  /** How it appeared: `text`, `utf-16`, `base64`, `hex`, or `zip:<entry>/…`. */
  encoding: string;
}

export interface LeakIndex {
  /** token → where it comes from */
  values: Map<string, { table: string; column: string }>;
  /** The columns that were indexed, and why. */
  columns: Array<{ table: string; column: string; reason: 'identifier name' | 'high cardinality'; distinct: number }>;
}

const ID_NAME =
  /(^|_|\b)(id|ids|nbr|mrn|ssn|patient|encounter|person|member|subscriber|name|first_?name|last_?name|surname|email|e_?mail|phone|tel|address|street|zip|postcode|dob|birth)(_|\b|$)|id$/i;
/** Shortest value worth indexing: shorter ones match too much by chance. */
const MIN_TEXT = 4;
const MIN_DIGITS = 5;

function usable(v: string): boolean {
  return /^\d+$/.test(v) ? v.length >= MIN_DIGITS : v.length >= MIN_TEXT;
}

/**
 * Indexes the identifying values of the input tables.
 * @param options.highCardinality share of distinct values above which a column counts as identifying
 */
export function buildLeakIndex(tables: SandboxTable[], options: { highCardinality?: number } = {}): LeakIndex {
  const ratio = options.highCardinality ?? 0.5;
  const values = new Map<string, { table: string; column: string }>();
  const columns: LeakIndex['columns'] = [];
  for (const t of tables) {
    for (const c of t.columns) {
      if (c.type !== 'string' && c.type !== 'int') continue;
      const distinct = new Set<string>();
      if (c.type === 'string') for (const code of c.values) if (code >= 0) distinct.add(c.dictionary![code]!);
      if (c.type === 'int')
        for (let i = 0; i < c.values.length; i++) if (!c.valid || c.valid[i]) distinct.add(String(c.values[i]));
      const byName = ID_NAME.test(c.name);
      const byCardinality = t.rowCount >= 100 && distinct.size >= 100 && distinct.size / t.rowCount > ratio;
      if (!byName && !byCardinality) continue;
      columns.push({
        table: t.name,
        column: c.name,
        reason: byName ? 'identifier name' : 'high cardinality',
        distinct: distinct.size,
      });
      for (const v of distinct) {
        const token = v.trim();
        if (usable(token) && /^[A-Za-z0-9_.@+-]+$/.test(token))
          values.set(normalize(token), { table: t.name, column: c.name });
        // Multi-word values (names, addresses): index their words of useful length too.
        else if (usable(token))
          for (const w of token.split(/[^A-Za-z0-9_@.+-]+/))
            if (w.length >= 6) values.set(normalize(w), { table: t.name, column: c.name });
      }
    }
  }
  return { values, columns };
}

/** Whole-number tokens written as floats (`8222157.0`) and trailing sentence dots are the same token. */
function normalize(token: string): string {
  return token.replace(/\.+$/, '').replace(/^(\d+)\.0+$/, '$1');
}

const TOKEN = /[A-Za-z0-9_@+-]+(?:\.[A-Za-z0-9_@+-]+)*/g;

function scanText(text: string, index: LeakIndex, encoding: string, hits: LeakHit[], limit: number): void {
  for (const m of text.matchAll(TOKEN)) {
    const token = normalize(m[0]);
    const where = index.values.get(token);
    if (where && hits.length < limit) hits.push({ value: token, ...where, encoding });
    if (hits.length >= limit) return;
  }
}

function utf16(bytes: Uint8Array): string | null {
  // Every other byte zero in the first kilobyte: UTF-16 (either endianness).
  const n = Math.min(bytes.length, 1024) & ~1;
  if (n < 8) return null;
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) even++;
    if (bytes[i + 1] === 0) odd++;
  }
  if (odd > (n / 2) * 0.8) return new TextDecoder('utf-16le').decode(bytes);
  if (even > (n / 2) * 0.8) return new TextDecoder('utf-16be').decode(bytes);
  return null;
}

const BASE64 = /[A-Za-z0-9+/]{16,}={0,2}/g;
const HEX = /\b(?:[0-9a-fA-F]{2}){8,}\b/g;

/**
 * Scans one output for identifying values.
 * @param limit stop after this many hits (the report needs a few, not all)
 */
export function scanForLeaks(
  bytes: Uint8Array,
  index: LeakIndex,
  options: { limit?: number; depth?: number; encoding?: string } = {},
): LeakHit[] {
  const limit = options.limit ?? 50;
  const depth = options.depth ?? 0;
  const enc = options.encoding ?? '';
  const hits: LeakHit[] = [];
  if (!index.values.size || depth > 3) return hits;
  // A zip (or a format built on zip: .npz, .keras, .docx …): scan each entry.
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    try {
      let total = 0;
      const files = unzipSync(bytes, {
        filter: (f) => {
          total += f.originalSize;
          return total <= 512 * 1024 * 1024 && f.originalSize <= Math.max(1, f.size) * 200;
        },
      });
      for (const [name, data] of Object.entries(files))
        hits.push(
          ...scanForLeaks(data, index, {
            limit: limit - hits.length,
            depth: depth + 1,
            encoding: `${enc}zip:${name}/`,
          }),
        );
    } catch {
      /* not a readable zip: scanned as bytes below */
    }
  }
  const wide = utf16(bytes);
  const text = wide ?? new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  scanText(text, index, `${enc}${wide ? 'utf-16' : 'text'}`, hits, limit);
  if (hits.length >= limit) return hits.slice(0, limit);
  for (const m of text.matchAll(BASE64)) {
    let decoded: Uint8Array;
    try {
      const s = m[0];
      decoded = base64.decode(s.length % 4 ? s + '='.repeat(4 - (s.length % 4)) : s);
    } catch {
      continue;
    }
    hits.push(
      ...scanForLeaks(decoded, index, { limit: limit - hits.length, depth: depth + 1, encoding: `${enc}base64/` }),
    );
    if (hits.length >= limit) return hits.slice(0, limit);
  }
  for (const m of text.matchAll(HEX)) {
    hits.push(
      ...scanForLeaks(hex.decode(m[0].toLowerCase()), index, {
        limit: limit - hits.length,
        depth: depth + 1,
        encoding: `${enc}hex/`,
      }),
    );
    if (hits.length >= limit) return hits.slice(0, limit);
  }
  return hits;
}
