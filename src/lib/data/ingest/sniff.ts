/**
 * What a file's first piece says about reading it: its format, its text encoding and, for CSV/TSV,
 * its delimiter; binary junk is refused here, before any row is read.
 */
import { IngestError } from '../errors.ts';
import type { Format, IngestOptions } from './types.ts';

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
export function chooseDelimiter(opts: IngestOptions, format: Format, start: string): string {
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

/** Picks the delimiter of a sample: the candidate that splits the first lines most consistently. */
function detectDelimiter(sample: string): string {
  const lines = sample.split(/\r?\n/).filter((l) => l.length).slice(0, 20);
  let best = ',';
  let bestScore = 0;
  for (const d of [',', '\t', ';', '|']) {
    const counts = lines.map((l) => l.split(d).length - 1);
    if (!counts.length || counts[0] === 0) continue;
    const same = counts.filter((c) => c === counts[0]).length;
    const score = same * 1000 + counts[0]!;
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}
