/**
 * Loading a file into columns: CSV/TSV (any delimiter), JSON lines and Parquet, read as a stream
 * of chunks with progress and cancellation. Types are inferred from the first rows (or set by the
 * owner); values are parsed straight into typed arrays; the text is never held whole.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ColumnType } from '../sandbox/index.ts';
import { ColumnBuilder, DEFAULT_MISSING, TypeInference, decodeBytes, grow, widenCodes, type BuiltColumn } from './columns.ts';
import { CsvTokenizer, detectDelimiter } from './csv.ts';
import { ByteCsvReader } from './csv-bytes.ts';
import { IngestError } from './errors.ts';
import { readPieces, yieldTask } from './pieces.ts';

export type Format = 'csv' | 'tsv' | 'jsonl' | 'parquet';

export interface IngestOptions {
  /** Table name; defaults to the file name without extension. */
  name?: string;
  format?: Format;
  /** CSV only; detected from the first lines when omitted. */
  delimiter?: string;
  /** `auto` reads UTF-8 and falls back to Latin-1 (Windows-1252) when the bytes are not UTF-8. */
  encoding?: 'auto' | 'utf-8' | 'latin1';
  /** Whether the first CSV row names the columns (default true). */
  header?: boolean;
  missing?: string[];
  /** Per column: a type and/or missing markers, overriding inference. */
  columns?: Record<string, { type?: ColumnType; missing?: string[] }>;
  /** Rows with fewer fields than the header: refuse the file (default) or pad with missing values. */
  ragged?: 'reject' | 'pad';
  /** Rename empty or duplicate column names (`column_3`, `age_2`) instead of refusing the file. */
  fixHeader?: boolean;
  /** Rows used to infer types. */
  sampleRows?: number;
  /**
   * CSV/TSV in UTF-8 is read from its bytes (`bytes`, the default, csv-bytes.ts); `text` forces
   * the text tokenizer, which Latin-1 and UTF-16 files always use. Both give the same table.
   */
  engine?: 'bytes' | 'text';
  /** Compute the table's fingerprint (default true); `loadFile` computes it while the table is written. */
  fingerprint?: boolean;
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
}

export interface IngestReport {
  format: Format;
  delimiter?: string;
  encoding: string;
  bytes: number;
  rows: number;
  /** Things the owner should know: columns turned into text, padded rows, renamed columns. */
  warnings: string[];
}

export interface IngestedTable {
  name: string;
  rowCount: number;
  columns: BuiltColumn[];
  /** SHA-256 over the canonical column encoding (see fingerprintColumns). */
  fingerprint: string;
  report: IngestReport;
}

export interface Source {
  name: string;
  size?: number;
  stream(): ReadableStream<Uint8Array>;
  /** Random access, for Parquet (a File or Blob has it). */
  slice?(start: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

function formatOf(name: string, first: Uint8Array): Format {
  if (first[0] === 0x50 && first[1] === 0x41 && first[2] === 0x52 && first[3] === 0x31) return 'parquet'; // "PAR1"
  const lower = name.toLowerCase();
  if (lower.endsWith('.parquet')) return 'parquet';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  return 'csv';
}

/** Rejects binary junk: NUL bytes or mostly control characters in the first bytes. */
function checkText(first: Uint8Array): void {
  const n = Math.min(first.length, 65536);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = first[i]!;
    if (b === 0) throw new IngestError('binary', 'the file is binary, not text (it contains NUL bytes); export it as CSV, JSON lines or Parquet');
    if (b < 9 || (b > 13 && b < 32)) control++;
  }
  if (n && control / n > 0.05) throw new IngestError('binary', 'the file does not look like text (many control characters); export it as CSV, JSON lines or Parquet');
}

function pickDecoder(first: Uint8Array, encoding: IngestOptions['encoding']): { decoder: TextDecoder; label: string } {
  if (first[0] === 0xff && first[1] === 0xfe) return { decoder: new TextDecoder('utf-16le'), label: 'utf-16le' };
  if (first[0] === 0xfe && first[1] === 0xff) return { decoder: new TextDecoder('utf-16be'), label: 'utf-16be' };
  if (encoding === 'latin1') return { decoder: new TextDecoder('windows-1252'), label: 'latin1' };
  if (encoding === 'utf-8') return { decoder: new TextDecoder('utf-8'), label: 'utf-8' };
  // auto: a UTF-8 check of the first MiB decides. A character cut by that MiB's end is not an
  // error (`stream`: the decoder holds its first bytes back), except at the file's end.
  const end = Math.min(first.length, 1 << 20);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(first.subarray(0, end), { stream: end === 1 << 20 });
    return { decoder: new TextDecoder('utf-8'), label: 'utf-8' };
  } catch {
    return { decoder: new TextDecoder('windows-1252'), label: 'latin1' };
  }
}

/** A CSV's delimiter: given, a tab for TSV, or detected from the start of the text. */
function chooseDelimiter(opts: IngestOptions, format: Format, start: string): string {
  const d = opts.delimiter ?? (format === 'tsv' ? '\t' : detectDelimiter(start));
  if (d.length !== 1 || d.charCodeAt(0) > 127) throw new IngestError('bad-options', 'the delimiter must be one ASCII character');
  return d;
}

/** What the first piece of a file says about reading it. */
export interface Sniffed {
  format: Format;
  /** Text formats: the decoder and its label. */
  decoder?: TextDecoder;
  label?: string;
  /** Set when the file is read by the byte engine (CSV/TSV in UTF-8): its delimiter. */
  delimiter?: string;
}

/**
 * How a file is to be read, from its first piece (a whole piece: see pieces.ts): the format, and
 * for text the encoding and, for the byte engine, the delimiter.
 * @throws {IngestError} `empty`, `binary`, or `bad-options` for a delimiter that cannot be one.
 */
export function sniffFile(name: string, first: Uint8Array, opts: IngestOptions): Sniffed {
  if (first.length === 0) throw new IngestError('empty', 'the file is empty (0 bytes)');
  const format = opts.format ?? formatOf(name, first);
  if (format === 'parquet') return { format };
  checkText(first);
  const { decoder, label } = pickDecoder(first, opts.encoding ?? 'auto');
  if (format === 'jsonl' || label !== 'utf-8' || (opts.engine ?? 'bytes') !== 'bytes') return { format, decoder, label };
  return { format, decoder, label, delimiter: chooseDelimiter(opts, format, new TextDecoder().decode(first.subarray(0, 65536)).replace(/^\ufeff/, '')) };
}

function checkHeader(names: string[], fix: boolean, warnings: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, i) => {
    let name = raw.trim();
    if (!name) {
      if (!fix) throw new IngestError('bad-header', `column ${i + 1} has no name; name it in the file, or let Airlock name it column_${i + 1}`);
      name = `column_${i + 1}`;
      warnings.push(`column ${i + 1} had no name and is called ${name}`);
    }
    const first = seen.get(name);
    if (first !== undefined) {
      if (!fix) throw new IngestError('bad-header', `the column name "${name}" appears twice (columns ${first + 1} and ${i + 1}); rename one, or let Airlock rename it`);
      let k = 2;
      while (seen.has(`${name}_${k}`)) k++;
      warnings.push(`column ${i + 1} repeats the name "${name}" and is called ${name}_${k}`);
      name = `${name}_${k}`;
    }
    seen.set(name, i);
    return name;
  });
}

/** Row-by-row assembly shared by the CSV, JSON lines and Parquet readers. */
class TableAssembler {
  /**
   * The first rows, kept until the column types are chosen: a record read from bytes as the index
   * of a copy of its bytes (no string per field: a sample of 5000 rows × 50 columns was a quarter of
   * a million strings), any other row as its fields and line.
   */
  private sample: Array<number | [string[], number]> = [];
  private sampleBytes = new Uint8Array(1 << 16);
  private sampleUsed = 0;
  /** Per byte row, `width` starts and ends of its fields in `sampleBytes`. */
  private sampleStarts = new Int32Array(1 << 11);
  private sampleEnds = new Int32Array(1 << 11);
  private sampleLines: number[] = [];
  /** Characters (or bytes) per sampled row, delimiters included: sizes the columns. */
  private sampleChars = 0;
  private builders: ColumnBuilder[] | undefined;
  /** The file's size, when known: the columns are sized from it (see startBuilders). */
  sizeHint: number | undefined;
  private names: string[] | undefined;
  rows = 0;
  /** The first line padded with missing values (`ragged: 'pad'`), for the report. */
  padded: number | undefined;
  private types: ColumnType[] | undefined;
  private finishing = false;
  /** Called once the columns' types are chosen; `complete` when the whole sample was seen. */
  onTypes: ((names: string[], types: ColumnType[], complete: boolean) => void) | undefined;

  constructor(
    private readonly opts: IngestOptions,
    private readonly warnings: string[],
  ) {}

  setHeader(names: string[]): void {
    this.names = checkHeader(names, !!this.opts.fixHeader, this.warnings);
  }

  /** Names already checked and their types: a later part of a file, whose first part read the header. */
  setColumns(names: string[], types: ColumnType[]): void {
    this.names = names;
    this.types = types;
  }

  get hasHeader(): boolean {
    return !!this.names;
  }

  add(fields: string[], line: number): void {
    if (!this.names) return this.setHeader(fields);
    const want = this.names.length;
    if (fields.length !== want) {
      if (fields.length > want && fields.slice(want).every((f) => f === '')) fields = fields.slice(0, want);
      else if (fields.length < want && this.opts.ragged === 'pad') {
        this.padded ??= line;
        while (fields.length < want) fields.push('');
      } else {
        throw new IngestError('ragged', `line ${line} has ${fields.length} fields but the header has ${want}; fix the file${fields.length < want ? ', or choose to pad short rows' : ''}`, line);
      }
    }
    this.rows++;
    if (this.builders) {
      for (let c = 0; c < want; c++) this.builders[c]!.push(fields[c]!, line);
      return;
    }
    for (const f of fields) this.sampleChars += f.length + 1;
    this.sample.push([fields, line]);
    if (this.sample.length >= (this.opts.sampleRows ?? 5000)) this.startBuilders();
  }

  /** A sampled record read from bytes: its bytes copied once, its fields as ranges of the copy. */
  private sampleRecord(buf: Uint8Array, starts: Int32Array, ends: Int32Array, count: number, line: number): void {
    this.rows++;
    const from = starts[0]!;
    const to = ends[count - 1]!; // fields are in order: the record's bytes lie between these
    const at = this.sampleUsed;
    this.sampleBytes = grow(this.sampleBytes, at + (to - from));
    this.sampleBytes.set(buf.subarray(from, to), at);
    this.sampleUsed += to - from;
    this.sampleChars += to - from + 1;
    const row = this.sampleLines.length;
    const r = row * count;
    const s = (this.sampleStarts = grow(this.sampleStarts, r + count));
    const e = (this.sampleEnds = grow(this.sampleEnds, r + count));
    for (let k = 0; k < count; k++) {
      s[r + k] = starts[k]! - from + at;
      e[r + k] = ends[k]! - from + at;
    }
    this.sampleLines.push(line);
    this.sample.push(row);
    if (this.sample.length >= (this.opts.sampleRows ?? 5000)) this.startBuilders();
  }

  /**
   * A record as byte ranges (csv-bytes.ts). Until the types are known (the sample), and for any
   * record that is not exactly as wide as the header, it is decoded and goes through `add`.
   */
  addBytes(buf: Uint8Array, starts: Int32Array, ends: Int32Array, count: number, line: number): void {
    const b = this.builders;
    if (!b && count === this.names!.length) return this.sampleRecord(buf, starts, ends, count, line);
    if (!b || count !== b.length) {
      const fields: string[] = [];
      for (let k = 0; k < count; k++) fields.push(decodeBytes(buf, starts[k]!, ends[k]!));
      return this.add(fields, line);
    }
    this.rows++;
    this.pushFields(buf, starts, ends, 0, line);
  }

  /** One record's fields, `starts[from + c]` to `ends[from + c]` for column c, into the builders. */
  private pushFields(buf: Uint8Array, starts: Int32Array, ends: Int32Array, from: number, line: number): void {
    const b = this.builders!;
    for (let c = 0; c < b.length; c++) b[c]!.pushBytes(buf, starts[from + c]!, ends[from + c]!, line);
  }

  private startBuilders(): void {
    const names = this.names!;
    const width = names.length;
    const globalMissing = this.opts.missing ?? DEFAULT_MISSING;
    const starts = this.sampleStarts;
    const ends = this.sampleEnds;
    const bytes = this.sampleBytes;
    const given = this.opts.columns;
    this.builders = names.map((name, c) => {
      // (Own properties only: a column may be called "constructor".)
      const o = given && Object.hasOwn(given, name) ? given[name] : undefined;
      const missing = new Set(o?.missing ?? globalMissing);
      let type = this.types?.[c] ?? o?.type;
      if (!type) {
        const inference = new TypeInference(missing);
        for (const e of this.sample) {
          if (typeof e === 'number') inference.addBytes(bytes, starts[e * width + c]!, ends[e * width + c]!);
          else inference.add(e[0][c]!);
        }
        const r = inference.result();
        type = r.type;
        if (r.mixed) this.warnings.push(`column "${name}" mixes numbers and text; loaded as text`);
      }
      return new ColumnBuilder(name, type, missing);
    });
    // Reported before the sample is pushed: the types as chosen (whatever a sampled value may do
    // to them), and as early as they are known, since later parts of the file wait for them.
    this.onTypes?.(
      names,
      this.builders.map((b) => b.type),
      !this.finishing,
    );
    // The rows to come, from the sample's length per row (a little over: trimmed at the end), so
    // the columns are not grown by doubling and copying.
    if (this.sizeHint && this.sample.length) {
      const rows = Math.ceil((this.sizeHint / (this.sampleChars / this.sample.length)) * 1.1) + 16;
      if (rows < 200_000_000) for (const b of this.builders) b.reserve(rows);
    }
    const builders = this.builders;
    for (const e of this.sample) {
      if (typeof e === 'number') this.pushFields(bytes, starts, ends, e * width, this.sampleLines[e]!);
      else for (let c = 0; c < width; c++) builders[c]!.push(e[0][c]!, e[1]);
    }
    this.sample = [];
    this.sampleBytes = new Uint8Array(0);
    this.sampleStarts = new Int32Array(0);
    this.sampleEnds = new Int32Array(0);
    this.sampleLines = [];
  }

  /** The columns as they stand (a part of a file may have no rows); `finish` for a whole file. */
  finishColumns(keepRoom = false): BuiltColumn[] {
    this.finishing = true;
    if (!this.builders) this.startBuilders();
    return this.builders!.map((b) => b.build(keepRoom));
  }

  finish(): BuiltColumn[] {
    if (!this.names) throw new IngestError('empty', 'the file is empty: no header and no rows');
    if (this.rows === 0) throw new IngestError('header-only', 'the file has a header but no rows');
    const columns = this.finishColumns();
    this.warnings.push(...endWarnings(columns, this.padded));
    return columns;
  }
}

/** The warnings a table's end adds: padded rows, then columns turned into text, in column order. */
export function endWarnings(columns: BuiltColumn[], padded: number | undefined): string[] {
  const out = padded === undefined ? [] : [`padded short rows with missing values, first on line ${padded}`];
  for (const c of columns) if (c.demoted) out.push(`column "${c.name}" was read as ${c.demoted.from} but line ${c.demoted.line} holds "${c.demoted.value}"; loaded as text`);
  return out;
}

async function digest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/**
 * Canonical SHA-256 of a table's content, which receipts cite: SHA-256 over a JSON header (row
 * count; each column's name, type and array kind) followed by, per column, the SHA-256 of its
 * values, of its validity mask (or of nothing) and of its dictionary as JSON (or of nothing).
 * Same data, same fingerprint, however it is held: text is hashed as Int32 codes with -1 for a
 * missing value (the wire format, and how every table was stored before one-byte codes), so a
 * table keeps its fingerprint across versions. Per-part digests use WebCrypto, native and fast.
 */
export async function fingerprintColumns(rowCount: number, columns: BuiltColumn[]): Promise<string> {
  const enc = new TextEncoder();
  const narrow = (c: BuiltColumn) => c.type === 'string' && !(c.values instanceof Int32Array);
  const parts: Uint8Array[] = [enc.encode(JSON.stringify({ rows: rowCount, columns: columns.map((c) => [c.name, c.type, narrow(c) ? 'Int32Array' : c.values.constructor.name]) }))];
  // Every digest requested at once (one round trip to WebCrypto instead of three per column).
  // One-byte codes are widened into one scratch array, column after column: digest() copies its
  // input when called (WebCrypto §14.3.5, "get a copy of the bytes"), so the array is free again
  // at once, and the wide copies never add up.
  const scratch = new Int32Array(columns.some(narrow) ? rowCount : 0);
  const values = (c: BuiltColumn): Promise<Uint8Array> => {
    if (!narrow(c)) return digest(new Uint8Array(c.values.buffer, c.values.byteOffset, c.values.byteLength));
    const wide = widenCodes(c, scratch);
    return digest(new Uint8Array(wide.buffer, wide.byteOffset, wide.byteLength));
  };
  parts.push(
    ...(await Promise.all(
      columns.flatMap((c) => [
        values(c),
        digest(c.valid ?? new Uint8Array(0)),
        digest(c.dictionary ? enc.encode(JSON.stringify(c.dictionary)) : new Uint8Array(0)),
      ]),
    )),
  );
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return bytesToHex(sha256(all));
}

export function tableName(file: string): string {
  return (
    file
      .replace(/^.*[\\/]/, '')
      .replace(/\.(csv|tsv|tab|txt|jsonl|ndjson|parquet)$/i, '')
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'table'
  );
}

/**
 * A part of a CSV/TSV file read on its own (parallel.ts): bytes that start at a line's start, in
 * UTF-8, read by the byte engine. The first part reads the header and infers the types as a whole
 * file would, and reports them; later parts are given them.
 */
export interface PartSpec {
  delimiter: string;
  /** Whether the bytes end the file (then a last record without a newline is read too). */
  last: boolean;
  /** Later parts: the names and types the first part found. The first part: undefined. */
  columns?: { names: string[]; types: ColumnType[] };
  /**
   * The first part: the whole file's size. Its columns are sized for the whole file's rows and
   * keep their room, so that the later parts are joined into them, not into copies.
   */
  room?: number;
  /** The first part: called once the types are chosen (`complete`: from a whole sample). */
  onTypes?: (found: { names: string[]; types: ColumnType[]; complete: boolean; multiline: boolean }) => void;
}

/** What a part read; line numbers are the part's own (its first line is line 1). */
export interface PartOutcome {
  rows: number;
  /** Lines read, blank ones and newlines inside quotes included. */
  lines: number;
  /** The bytes ended inside a record (a newline inside quotes): the part's end was not a record's. */
  cut: boolean;
  columns: BuiltColumn[];
  padded?: number;
  /** The first part: what the header and the inference noted. */
  warnings: string[];
  /** The first part: what it reported through `onTypes`, if it did. */
  found?: Parameters<NonNullable<PartSpec['onTypes']>>[0];
}

/**
 * Loads a file into columns.
 * @throws {IngestError} naming what is wrong and where (line numbers), or `cancelled`.
 */
export async function ingest(source: Source, opts: IngestOptions = {}): Promise<IngestedTable> {
  const r = await readTable(source, opts);
  if ('cut' in r) throw new Error('unreachable: a whole file is not a part');
  return r;
}

/**
 * Reads part of a CSV file (see PartSpec).
 * @throws {IngestError} `ragged` and the like, with the part's own line numbers, or `cancelled`.
 */
export async function ingestPart(source: Source, opts: IngestOptions, part: PartSpec): Promise<PartOutcome> {
  const r = await readTable(source, opts, part);
  if (!('cut' in r)) throw new Error('unreachable: a part is not a whole file');
  return r;
}

/** The column names and types a load of a file infers, and what it noted by then. */
export interface InferredColumns {
  name: string;
  columns: Array<{ name: string; type: ColumnType }>;
  warnings: string[];
}

/**
 * The columns a load of this file would have and the types it would infer, read from the file's
 * start: only as far as the rows the types are inferred from (all of a shorter file). The Tables
 * tab shows them before loading, so that what it shows is what the load will do.
 * @throws {IngestError} as ingest does for what it reads.
 */
export async function inferColumns(source: Source, opts: IngestOptions = {}): Promise<InferredColumns> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort);
  let found: InferredColumns | undefined;
  const name = opts.name ?? tableName(source.name);
  try {
    const t = (await readTable(source, { ...opts, fingerprint: false, signal: stop.signal }, undefined, (names, types, warnings) => {
      found = { name, columns: names.map((n, i) => ({ name: n, type: types[i]! })), warnings: [...warnings] };
      stop.abort(); // the rest of the file is not needed
    })) as IngestedTable;
    return { name, columns: t.columns.map((c) => ({ name: c.name, type: c.type })), warnings: t.report.warnings };
  } catch (e) {
    if (found && !opts.signal?.aborted && e instanceof IngestError && e.code === 'cancelled') return found;
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

type TypesHook = (names: string[], types: ColumnType[], warnings: string[]) => void;

async function readTable(source: Source, opts: IngestOptions, part?: PartSpec, typesHook?: TypesHook): Promise<IngestedTable | PartOutcome> {
  const warnings: string[] = [];
  const reader = readPieces(source.stream());
  const cancel = () => {
    void reader.cancel().catch(() => {});
    throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
  };
  // The first piece (a whole piece unless the file is smaller) tells the format, the encoding and
  // the delimiter.
  const first = (await reader.next()) ?? new Uint8Array(0);
  const sniffed: Sniffed = part ? { format: 'csv', decoder: new TextDecoder(), label: 'utf-8', delimiter: part.delimiter } : sniffFile(source.name, first, opts);
  const { format, label } = sniffed;
  const name = opts.name ?? tableName(source.name);
  if (format === 'parquet') {
    void reader.cancel().catch(() => {});
    const { ingestParquet } = await import('./parquet.ts');
    return ingestParquet(source, name, opts, warnings, typesHook);
  }
  const decoder = sniffed.decoder!;
  const asm = new TableAssembler(part?.columns ? { ...opts, sampleRows: 64 } : opts, warnings);
  asm.sizeHint = part?.room ?? source.size;
  let bytes = 0;
  let delimiter: string | undefined;
  let feed: (text: string) => void;
  let feedBytes: ((chunk: Uint8Array) => void) | undefined;
  let end: () => void;
  const header = opts.header ?? true;
  const csvRow = (fields: string[], line: number) => {
    if (!asm.hasHeader && !header) asm.setHeader(fields.map((_, i) => `column_${i + 1}`));
    asm.add(fields, line);
  };
  let byteReader: ByteCsvReader | undefined;
  if (part?.columns) asm.setColumns(part.columns.names, part.columns.types);
  if (format === 'jsonl') {
    let carry = '';
    let line = 0;
    let keys: string[] | undefined;
    const row = (text: string) => {
      line++;
      const t = text.trim();
      if (!t) return;
      let obj: unknown;
      try {
        obj = JSON.parse(t);
      } catch {
        throw new IngestError('bad-json', `line ${line} is not valid JSON; each line must hold one JSON object`);
      }
      if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new IngestError('bad-json', `line ${line} is not a JSON object`);
      const o = obj as Record<string, unknown>;
      if (!keys) {
        keys = Object.keys(o);
        asm.setHeader(keys);
      }
      const extra = Object.keys(o).find((k) => !keys!.includes(k));
      if (extra) throw new IngestError('ragged', `line ${line} has a field "${extra.slice(0, 40)}" that the first line does not; every line needs the same fields`);
      asm.add(keys.map((k) => jsonValue(o[k])), line);
    };
    feed = (text) => {
      const parts = (carry + text).split('\n');
      carry = parts.pop()!;
      for (const p of parts) row(p);
    };
    end = () => {
      if (carry) row(carry);
      if (!keys) throw new IngestError('empty', 'the file holds no JSON objects');
    };
  } else if (sniffed.delimiter !== undefined) {
    // The fast path: records cut from the bytes themselves (csv-bytes.ts).
    feedBytes = (chunk) => {
      if (!byteReader) {
        delimiter = sniffed.delimiter!;
        byteReader = new ByteCsvReader(
          delimiter,
          (buf, starts, ends, count, line) => {
            if (!asm.hasHeader) {
              const fields: string[] = [];
              for (let k = 0; k < count; k++) fields.push(decodeBytes(buf, starts[k]!, ends[k]!));
              return csvRow(fields, line);
            }
            asm.addBytes(buf, starts, ends, count, line);
          },
          csvRow,
          { fileStart: !part?.columns },
        );
      }
      byteReader.push(chunk);
    };
    feed = () => {};
    // A part that does not end the file leaves an unfinished record unread: it means the part's
    // end fell inside quotes, which the caller must know (`cut`), not a record to guess at.
    end = () => void (part && !part.last ? undefined : byteReader?.finish());
  } else {
    let tok: CsvTokenizer | undefined;
    feed = (text) => {
      if (!tok) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        delimiter = chooseDelimiter(opts, format, text.slice(0, 65536));
        tok = new CsvTokenizer({ delimiter }, csvRow);
      }
      tok.push(text);
    };
    end = () => tok?.finish();
  }
  let found: PartOutcome['found'];
  if (typesHook) asm.onTypes = (names, types) => typesHook(names, types, warnings);
  if (part?.onTypes) {
    const report = part.onTypes;
    asm.onTypes = (names, types, complete) => report((found = { names, types, complete, multiline: (byteReader?.multiline ?? 0) > 0 }));
  }
  let chunk: Uint8Array | undefined = first;
  while (chunk) {
    if (opts.signal?.aborted) cancel();
    bytes += chunk.length;
    if (feedBytes) feedBytes(chunk);
    else feed(decoder.decode(chunk, { stream: true }));
    opts.onProgress?.(bytes, source.size);
    chunk = await reader.next();
    await yieldTask();
  }
  if (!feedBytes) feed(decoder.decode());
  end();
  if (opts.signal?.aborted) cancel();
  if (part) {
    return {
      rows: asm.rows,
      lines: (byteReader?.nextLine ?? 1) - 1,
      cut: (byteReader?.pending ?? 0) > 0,
      columns: asm.hasHeader ? asm.finishColumns(part.room !== undefined) : [],
      ...(asm.padded !== undefined ? { padded: asm.padded } : {}),
      warnings,
      ...(found ? { found } : {}),
    };
  }
  const columns = asm.finish();
  return {
    name,
    rowCount: asm.rows,
    columns,
    fingerprint: opts.fingerprint === false ? '' : await fingerprintColumns(asm.rows, columns),
    report: { format, delimiter, encoding: label!, bytes, rows: asm.rows, warnings },
  };
}

/** A JSON value as the text a CSV would hold, so one inference serves every format. */
export function jsonValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

export { TableAssembler };
