/** What ingest is asked, what it reads from, and what it gives back: shared by the readers, the driver and the lanes. */
import type { ColumnType } from '../../sandbox/index.ts';
import type { BuiltColumn } from '../columns/builder.ts';

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

/** A file to read: a File or Blob (see blobSource), or any stream of bytes with a name. */
export interface Source {
  name: string;
  size?: number;
  stream(): ReadableStream<Uint8Array>;
  /** Random access, for Parquet (a File or Blob has it). */
  slice?(start: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * The one event of a read whose column types are chosen, sent once, as soon as they are (before the
 * sampled rows go into the columns): to `inferColumns`, which then stops reading; and from a file's
 * first part, whose later parts wait for it (parallel/, across a worker boundary: plain data).
 */
export interface TypesChosen {
  names: string[];
  types: ColumnType[];
  /** From a whole sample of `sampleRows` rows, not from a file (or part) that ended sooner. */
  complete: boolean;
  /** A sampled CSV record held a newline inside quotes (the byte reader saw one). */
  multiline: boolean;
  /** What the header and the inference noted by then. */
  warnings: string[];
}

/**
 * A part of a CSV/TSV file read on its own (parallel/): bytes that start at a line's start, in
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
  /** The first part: told once the types are chosen. */
  onTypes?: (found: TypesChosen) => void;
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
  found?: TypesChosen;
}

/** A text format's reader (readers/): the file's pieces in, in order; its rows into the assembler. */
export interface RowReader {
  /** The next piece of the file (valid only during the call). */
  push(piece: Uint8Array): void;
  /** The file's end: its last record, and the errors of a file that ends wrong. */
  finish(): void;
  /** CSV/TSV: the delimiter, once the first piece is read. */
  readonly delimiter?: string;
}
