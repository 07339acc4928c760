/**
 * Loading a file into columns: CSV/TSV (any delimiter), JSON lines and Parquet, read as a stream
 * of pieces with progress and cancellation. The first piece tells how to read the file (sniff.ts);
 * a reader per format (readers/) turns its pieces into rows; the assembler (assembler.ts) infers
 * the types from the first rows (or takes the owner's) and parses values straight into typed
 * arrays. The text is never held whole.
 */
import type { ColumnType } from '../../sandbox/index.ts';
import { fingerprintColumns } from '../columns/fingerprint.ts';
import { IngestError } from '../errors.ts';
import { TableAssembler } from './assembler.ts';
import { yieldTask } from '../../workers/index.ts';
import { readPieces } from './pieces.ts';
import { csvByteReader } from './readers/csv-bytes.ts';
import { csvTextReader } from './readers/csv-text.ts';
import { jsonlReader } from './readers/jsonl.ts';
import { sniffFile, type Sniffed } from './sniff.ts';
import type { IngestOptions, IngestReport, IngestedTable, PartOutcome, PartSpec, RowReader, Source, TypesChosen } from './types.ts';

/** A table's name from its file's: no folder, no extension, letters, digits and underscores. */
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
  const r = await readTable(source, opts, part.onTypes, part);
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
    const t = (await readTable(source, { ...opts, fingerprint: false, signal: stop.signal }, (e) => {
      found = { name, columns: e.names.map((n, i) => ({ name: n, type: e.types[i]! })), warnings: e.warnings };
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

/**
 * Reads a whole file, or a part of one (`part`), telling `onTypes` once the column types are chosen.
 */
async function readTable(source: Source, opts: IngestOptions, onTypes?: (found: TypesChosen) => void, part?: PartSpec): Promise<IngestedTable | PartOutcome> {
  const warnings: string[] = [];
  const pieces = readPieces(source.stream());
  const cancel = () => {
    void pieces.cancel().catch(() => {});
    throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
  };
  // The first piece (a whole piece unless the file is smaller) tells the format, the encoding and
  // the delimiter.
  const first = (await pieces.next()) ?? new Uint8Array(0);
  const sniffed: Sniffed = part ? { format: 'csv', decoder: new TextDecoder(), label: 'utf-8', delimiter: part.delimiter } : sniffFile(source.name, first, opts);
  const { format, label } = sniffed;
  const name = opts.name ?? tableName(source.name);
  const asm = new TableAssembler(part?.columns ? { ...opts, sampleRows: 64 } : opts, warnings);
  // (A part keeps what it reported: its outcome carries it too, in case it ends before the event arrives.)
  let found: TypesChosen | undefined;
  asm.onTypes = onTypes && ((e) => onTypes((found = e)));
  const whole = async (report: Omit<IngestReport, 'rows' | 'warnings'>): Promise<IngestedTable> => {
    const columns = asm.finish();
    return {
      name,
      rowCount: asm.rows,
      columns,
      fingerprint: opts.fingerprint === false ? '' : await fingerprintColumns(asm.rows, columns),
      report: { ...report, rows: asm.rows, warnings },
    };
  };
  if (format === 'parquet') {
    void pieces.cancel().catch(() => {});
    const { readParquet } = await import('./readers/parquet.ts');
    const bytes = await readParquet(source, asm, opts);
    return whole({ format: 'parquet', encoding: 'binary', bytes });
  }
  asm.sizeHint = part?.room ?? source.size;
  if (part?.columns) asm.setColumns(part.columns.names, part.columns.types);
  const decoder = sniffed.decoder!;
  // CSV/TSV in UTF-8 is cut into records from its bytes (the fast path); parts always are.
  const byBytes = sniffed.delimiter !== undefined ? csvByteReader(asm, opts, sniffed.delimiter, { fileStart: !part?.columns, toEnd: !part || part.last }) : undefined;
  const reader: RowReader = byBytes ?? (format === 'jsonl' ? jsonlReader(asm, decoder) : csvTextReader(asm, opts, format, decoder));
  let bytes = 0;
  let chunk: Uint8Array | undefined = first;
  while (chunk) {
    if (opts.signal?.aborted) cancel();
    bytes += chunk.length;
    reader.push(chunk);
    opts.onProgress?.(bytes, source.size);
    chunk = await pieces.next();
    await yieldTask();
  }
  reader.finish();
  if (opts.signal?.aborted) cancel();
  if (part) {
    return {
      rows: asm.rows,
      lines: byBytes!.lines,
      cut: byBytes!.cut,
      columns: asm.hasHeader ? asm.finishColumns(part.room !== undefined) : [],
      ...(asm.padded !== undefined ? { padded: asm.padded } : {}),
      warnings,
      ...(found ? { found } : {}),
    };
  }
  return whole({ format, delimiter: reader.delimiter, encoding: label!, bytes });
}
