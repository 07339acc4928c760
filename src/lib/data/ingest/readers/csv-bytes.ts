/**
 * CSV/TSV read straight from UTF-8 bytes: the fast path of ingest, and how parts of a file are read.
 *
 * Splitting text into field strings costs more than everything else ingest does (a string per
 * field, an array per row, all garbage at once). Here a quote-free record is cut into byte ranges
 * and each range goes to its column builder, which parses numbers from the bytes and looks text up
 * in its dictionary by bytes: a string is made only for a value seen for the first time. Whole quoted
 * fields ("a, b") are byte ranges too. Any other record with a quote (a doubled quote, a newline
 * inside quotes) or a lone carriage return is decoded and read by the text tokenizer (csv-text.ts), so
 * both paths give the same fields; `tests/unit/ingest.test.ts` checks that they agree on every
 * kind of file.
 */
import { grow } from '../../columns/arrays.ts';
import { decodeBytes } from '../../columns/scalars.ts';
import type { TableAssembler } from '../assembler.ts';
import type { RowReader } from '../types.ts';
import { CsvTokenizer, csvRows } from './csv-text.ts';

/**
 * Delimiters are found four bytes at a time (SWAR): each aligned 32-bit word of the line is XORed
 * with the delimiter repeated, and an exact zero-byte test marks where it was. Needs the platform's
 * byte order to be little-endian (every browser engine here); otherwise the byte loop is used.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const LF = 10;
const CR = 13;
const QUOTE = 34;

/** Receives each record: `count` fields, field k being `buf[starts[k], ends[k])`. */
export type ByteRowSink = (buf: Uint8Array, starts: Int32Array, ends: Int32Array, count: number, line: number) => void;
/** Receives a record that went through the text tokenizer. */
export type TextRowSink = (fields: string[], line: number) => void;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class ByteCsvReader {
  private readonly delim: number;
  private carry: Uint8Array = new Uint8Array(0);
  private line = 1;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private records = 0;
  /** Whether the next bytes are the file's first (a BOM there is dropped). */
  private first: boolean;
  /** Records read through the text tokenizer that held a newline inside quotes. */
  multiline = 0;
  /** (`ignoreBOM`: a U+FEFF inside a field is content; the file's BOM is dropped in `push`.) */
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(
    private readonly delimiter: string,
    private readonly onBytes: ByteRowSink,
    private readonly onText: TextRowSink,
    options: { fileStart?: boolean } = {},
  ) {
    this.delim = delimiter.charCodeAt(0);
    // A part of a file that starts mid-way (parallel/) has no BOM: U+FEFF there is content.
    this.first = options.fileStart ?? true;
  }

  /** The line number the next record starts on (lines count from 1). */
  get nextLine(): number {
    return this.line;
  }

  /** Bytes of an unfinished record held back for more input. */
  get pending(): number {
    return this.carry.length;
  }

  /** Feeds the next bytes (any cut). */
  push(chunk: Uint8Array): void {
    if (this.first && this.carry.length + chunk.length < 3) {
      // Too little to tell whether the file starts with a BOM: wait for more.
      this.carry = concat(this.carry, chunk);
      return;
    }
    let buf = chunk;
    if (this.carry.length) {
      // The record cut by the previous piece usually ends at this piece's first newline: finish
      // it from a small buffer instead of copying the whole piece behind the carried bytes.
      const q = this.first ? -1 : chunk.indexOf(LF);
      if (q < 0) buf = concat(this.carry, chunk);
      else {
        const head = concat(this.carry, chunk.subarray(0, q + 1));
        const used = this.scan(head, false);
        buf = used === head.length ? chunk.subarray(q + 1) : concat(head.subarray(used), chunk.subarray(q + 1));
      }
    }
    if (this.first && buf.length >= 3) {
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3); // BOM
    }
    const used = this.scan(buf, false);
    this.carry = buf.slice(used);
  }

  /** Ends the input; returns the number of records. */
  finish(): number {
    if (this.first && this.carry[0] === 0xef && this.carry[1] === 0xbb && this.carry[2] === 0xbf) this.carry = this.carry.subarray(3);
    if (this.carry.length) this.scan(this.carry, true);
    this.carry = new Uint8Array(0);
    return this.records;
  }

  /** Reads every complete record of `buf`; returns how many bytes were used. */
  private scan(buf: Uint8Array, final: boolean): number {
    const n = buf.length;
    const D = this.delim;
    let p = 0;
    // buf[off] starts the first aligned word; words[k] holds buf[off + 4k, off + 4k + 4).
    const off = (4 - (buf.byteOffset & 3)) & 3;
    const words = LITTLE_ENDIAN && n - off >= 4 ? new Int32Array(buf.buffer, buf.byteOffset + off, (n - off) >> 2) : undefined;
    const pattern = D * 0x01010101;
    // Where the next quote and the next carriage return are: most lines have neither, and then the
    // loop over a line's bytes only looks for the delimiter.
    let nextQuote = buf.indexOf(QUOTE);
    let nextCR = buf.indexOf(CR);
    const lf = LF * 0x01010101;
    while (p < n) {
      // One pass finds the line's end and its delimiters: aligned words are tested for both bytes
      // at once (a quote or a carriage return in the line is dealt with after, from the line's
      // start: both are rare).
      let starts = this.starts;
      let ends = this.ends;
      let count = 0;
      let start = p;
      let j = p;
      let nl = -1;
      // Bytes up to the first aligned word, then words, then the bytes after the last word.
      for (let tail = false; ; tail = true) {
        const limit = words !== undefined && !tail ? Math.min(n, j + ((off - j) & 3)) : n;
        for (; j < limit; j++) {
          const c = buf[j]!;
          if (c === LF) {
            nl = j;
            break;
          }
          if (c === D) {
            if (count >= starts.length - 1) {
              this.more(); // room for this field and the line's last
              starts = this.starts;
              ends = this.ends;
            }
            starts[count] = start;
            ends[count++] = j;
            start = j + 1;
          }
        }
        if (nl >= 0 || tail || words === undefined) break;
        for (; j + 4 <= n; j += 4) {
          const w = words[(j - off) >> 2]!;
          const x = w ^ pattern;
          const y = w ^ lf;
          // An exact zero-byte test: 0x80 in each byte where x's byte is zero (the delimiter); `l` for LF.
          let m = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
          const l = ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y | 0x7f7f7f7f);
          if (l !== 0) {
            const at = (31 - Math.clz32(l & -l)) >> 3;
            nl = j + at;
            m &= (1 << (at << 3)) - 1; // only the delimiters before the newline
          }
          while (m !== 0) {
            const at = j + ((31 - Math.clz32(m & -m)) >> 3);
            if (count >= starts.length - 1) {
              this.more();
              starts = this.starts;
              ends = this.ends;
            }
            starts[count] = start;
            ends[count++] = at;
            start = at + 1;
            m &= m - 1;
          }
          if (nl >= 0) break;
        }
        if (nl >= 0) break;
      }
      if (nl < 0) {
        if (!final) break;
        nl = n;
      }
      if (nextQuote >= 0 && nextQuote < p) nextQuote = buf.indexOf(QUOTE, p);
      if (nextQuote >= 0 && nextQuote < nl && this.quotedLine(buf, p, nl)) {
        p = nl + 1;
        continue;
      }
      if (nextQuote >= 0 && nextQuote < nl) {
        // A quoted field may hold delimiters and newlines: find where the record really ends.
        let end = this.recordEnd(buf, p);
        if (end < 0) {
          if (!final) break;
          end = n;
        }
        this.viaText(buf.subarray(p, Math.min(n, end + 1)));
        p = end + 1;
        continue;
      }
      let lineEnd = nl;
      if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
      if (lineEnd === p) {
        // A blank line is not a record.
        this.line++;
        p = nl + 1;
        continue;
      }
      if (nextCR >= 0 && nextCR < p) nextCR = buf.indexOf(CR, p);
      if (nextCR >= 0 && nextCR < lineEnd) {
        // A carriage return alone inside a line ends a record for the text tokenizer too.
        this.viaText(buf.subarray(p, Math.min(n, nl + 1)));
        p = nl + 1;
        continue;
      }
      starts[count] = start;
      ends[count++] = lineEnd;
      this.records++;
      this.onBytes(buf, starts, ends, count, this.line);
      this.line++;
      p = nl + 1;
    }
    return Math.min(p, n);
  }

  /**
   * A line with quotes, when it is simple: every quoted field is a whole field ("…" between
   * delimiters) with no doubled quote and no newline inside, so its content is a byte range too.
   * Returns false (nothing consumed) for anything else, which then goes through the text tokenizer.
   */
  private quotedLine(buf: Uint8Array, p: number, nl: number): boolean {
    let lineEnd = nl;
    if (lineEnd > p && buf[lineEnd - 1] === CR) lineEnd--;
    const D = this.delim;
    let count = 0;
    let j = p;
    for (;;) {
      if (j < lineEnd && buf[j] === QUOTE) {
        const close = buf.indexOf(QUOTE, j + 1);
        if (close < 0 || close >= lineEnd) return false; // runs past the line: a newline inside
        const after = close + 1;
        if (after < lineEnd && buf[after] !== D) return false; // "" inside, or text after the quote
        this.field(count++, j + 1, close);
        j = after;
      } else {
        let e = j;
        while (e < lineEnd) {
          const c = buf[e]!;
          if (c === D) break;
          if (c === CR) return false; // a lone carriage return
          e++;
        }
        this.field(count++, j, e);
        j = e;
      }
      if (j >= lineEnd) break;
      j++; // past the delimiter
      if (j === lineEnd) {
        this.field(count++, j, j); // a trailing delimiter: one more, empty field
        break;
      }
    }
    if (count === 1 && this.starts[0] === this.ends[0]) {
      this.line++; // `""` alone: one empty field, which the text tokenizer treats as a blank line
      return true;
    }
    this.records++;
    this.onBytes(buf, this.starts, this.ends, count, this.line);
    this.line++;
    return true;
  }

  /**
   * Where the record starting at `p` ends (its LF, or a lone CR), by the text tokenizer's rules: a
   * quote opens a quoted field only at the start of a field, `""` inside one is a quote, and a
   * quote anywhere else is a plain character. -1 when the bytes run out first.
   */
  private recordEnd(buf: Uint8Array, p: number): number {
    const n = buf.length;
    const D = this.delim;
    let fieldStart = true;
    let inQuotes = false;
    for (let j = p; j < n; j++) {
      const c = buf[j]!;
      if (inQuotes) {
        if (c === QUOTE) {
          if (j + 1 >= n) return -1; // a closing quote, or the first of two: the next byte decides
          if (buf[j + 1] === QUOTE) j++;
          else inQuotes = false;
        }
        continue;
      }
      if (c === QUOTE && fieldStart) {
        inQuotes = true;
        fieldStart = false;
      } else if (c === D) fieldStart = true;
      else if (c === LF) return j;
      else if (c === CR) {
        if (j + 1 >= n) return -1;
        return buf[j + 1] === LF ? j + 1 : j;
      } else fieldStart = false;
    }
    return -1;
  }

  private field(k: number, start: number, end: number): void {
    if (k >= this.starts.length) this.more();
    this.starts[k] = start;
    this.ends[k] = end;
  }

  /** Doubles the room for a record's fields. */
  private more(): void {
    this.starts = grow(this.starts, this.starts.length + 1);
    this.ends = grow(this.ends, this.ends.length + 1);
  }

  /** One record (with any newlines it holds) through the text tokenizer, at the right line. */
  private viaText(bytes: Uint8Array): void {
    const tok = new CsvTokenizer({ delimiter: this.delimiter, firstLine: this.line }, (fields, line) => {
      this.records++;
      this.onText(fields, line);
    });
    tok.push(this.decoder.decode(bytes));
    tok.finish();
    // A newline inside quotes (the bytes hold one before their last): a lone carriage return
    // also spans lines, but the line ends it splits at are records' ends.
    const inner = bytes.indexOf(LF);
    if (inner >= 0 && inner < bytes.length - 1) this.multiline++;
    this.line = tok.nextLine;
  }
}

/** A byte reader's reading, with what a part of a file (parallel/) reports at its end. */
export interface CsvByteReading extends RowReader {
  /** Lines read, blank ones and newlines inside quotes included. */
  readonly lines: number;
  /** The bytes ended inside a record (bytes of an unfinished one were held back). */
  readonly cut: boolean;
}

/**
 * A UTF-8 CSV/TSV file, or a part of one, cut into records from its bytes. `fileStart`: the bytes
 * start the file (a BOM there is dropped; a later part starting mid-way has none); `toEnd`: they
 * end it, so an unfinished last record is read too (a part that does not end the file leaves it
 * unread: its end fell inside quotes, which the caller must know, not a record to guess at).
 */
export function csvByteReader(asm: TableAssembler, opts: { header?: boolean }, delimiter: string, { fileStart, toEnd }: { fileStart: boolean; toEnd: boolean }): CsvByteReading {
  const rows = csvRows(asm, opts.header ?? true);
  const reader = new ByteCsvReader(
    delimiter,
    (buf, starts, ends, count, line) => {
      if (!asm.hasHeader) {
        const fields: string[] = [];
        for (let k = 0; k < count; k++) fields.push(decodeBytes(buf, starts[k]!, ends[k]!));
        return rows(fields, line);
      }
      asm.addBytes(buf, starts, ends, count, line);
    },
    rows,
    { fileStart },
  );
  asm.multiline = () => reader.multiline > 0;
  return {
    delimiter,
    push: (piece) => reader.push(piece),
    finish: () => {
      if (toEnd) reader.finish();
    },
    get lines() {
      return reader.nextLine - 1;
    },
    get cut() {
      return reader.pending > 0;
    },
  };
}
