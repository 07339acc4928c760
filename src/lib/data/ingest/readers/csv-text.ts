/**
 * CSV/TSV read as text: a streaming tokenizer (RFC 4180, plus what real files do: `\r\n` or `\n`,
 * a BOM, quoted fields with `""` escapes and embedded newlines). Text arrives in chunks of any size;
 * each complete record is handed on as an array of field strings with the line it started on.
 * Latin-1 and UTF-16 files are read this way, and the byte reader (csv-bytes.ts) hands it the
 * records it does not cut itself.
 */
import { IngestError } from '../../errors.ts';
import type { TableAssembler } from '../assembler.ts';
import { chooseDelimiter } from '../sniff.ts';
import type { Format, IngestOptions, RowReader } from '../types.ts';

export interface CsvOptions {
  delimiter: string;
  quote?: string;
  /** The line number of the first line fed (when a reader hands over a record from mid-file). */
  firstLine?: number;
}

export type RowSink = (fields: string[], line: number) => void;

const LF = 10;
const CR = 13;

export class CsvTokenizer {
  private readonly delim: number;
  private readonly quote: number;
  private readonly quoteChar: string;
  private carry = '';
  /** Line number (1-based) where the record being read started. */
  private line = 1;
  private records = 0;

  constructor(
    options: CsvOptions,
    private readonly sink: RowSink,
  ) {
    if (options.delimiter.length !== 1) throw new IngestError('bad-options', 'the delimiter must be one character');
    this.delim = options.delimiter.charCodeAt(0);
    this.quoteChar = options.quote ?? '"';
    this.quote = this.quoteChar.charCodeAt(0);
    this.line = options.firstLine ?? 1;
  }

  /** The line number the next record would start on. */
  get nextLine(): number {
    return this.line;
  }

  /** Feeds the next piece of text. */
  push(text: string): void {
    const s = this.carry ? this.carry + text : text;
    const consumed = this.parse(s, false);
    this.carry = s.slice(consumed);
  }

  /** Ends the input; a final record without a newline is emitted. */
  finish(): number {
    if (this.carry) {
      const consumed = this.parse(this.carry, true);
      if (consumed < this.carry.length) throw new IngestError('unterminated-quote', `a quoted field that starts on line ${this.line} never ends; check for a stray " on that line`, this.line);
      this.carry = '';
    }
    return this.records;
  }

  /**
   * Parses complete records from `s` and returns how many characters were consumed; the rest (an
   * incomplete record) waits for more text unless `final`.
   */
  private parse(s: string, final: boolean): number {
    const n = s.length;
    const D = this.delim;
    const Q = this.quote;
    let start = 0; // start of the current record
    let i: number;
    let line = this.line;
    const delimChar = String.fromCharCode(D);
    while (start < n) {
      // Fast path: a whole line without quotes splits natively.
      const nl = s.indexOf('\n', start);
      if (nl >= 0) {
        let lineEnd = nl;
        if (lineEnd > start && s.charCodeAt(lineEnd - 1) === CR) lineEnd--;
        const text = s.slice(start, lineEnd);
        if (text.indexOf(this.quoteChar) < 0 && text.indexOf('\r') < 0) {
          if (text.length) {
            this.records++;
            this.sink(text.split(delimChar), line);
          }
          line++;
          start = nl + 1;
          continue;
        }
      } else if (!final) {
        break;
      }
      const fields: string[] = [];
      let lines = 0;
      i = start;
      let complete: boolean;
      for (;;) {
        // One field.
        if (i < n && s.charCodeAt(i) === Q) {
          let j = i + 1;
          let value = '';
          let from = j;
          for (;;) {
            const k = s.indexOf(this.quoteChar, j);
            if (k < 0) {
              if (!final) return start === 0 ? 0 : this.commit(start, line);
              // Unterminated at end of input.
              this.line = line;
              return start;
            }
            for (let m = j; m < k; m++) if (s.charCodeAt(m) === LF) lines++;
            if (k + 1 < n && s.charCodeAt(k + 1) === Q) {
              value += s.slice(from, k + 1);
              j = k + 2;
              from = j;
              continue;
            }
            if (k + 1 >= n && !final) return start === 0 ? 0 : this.commit(start, line);
            value += s.slice(from, k);
            i = k + 1;
            break;
          }
          fields.push(value);
          // After a closing quote: a delimiter, end of line, or (leniently) more text up to them.
          if (i < n && s.charCodeAt(i) !== D && s.charCodeAt(i) !== LF && s.charCodeAt(i) !== CR) {
            let e = i;
            while (e < n && s.charCodeAt(e) !== D && s.charCodeAt(e) !== LF && s.charCodeAt(e) !== CR) e++;
            fields[fields.length - 1] += s.slice(i, e);
            i = e;
          }
        } else {
          let e = i;
          while (e < n) {
            const c = s.charCodeAt(e);
            if (c === D || c === LF || c === CR) break;
            e++;
          }
          if (e >= n && !final) return start === 0 ? 0 : this.commit(start, line);
          fields.push(s.slice(i, e));
          i = e;
        }
        if (i >= n) {
          complete = true; // final record without newline
          break;
        }
        const c = s.charCodeAt(i);
        if (c === D) {
          i++;
          if (i >= n && !final) return start === 0 ? 0 : this.commit(start, line);
          if (i >= n) {
            fields.push('');
            complete = true;
            break;
          }
          continue;
        }
        // End of line: \n, \r\n or a lone \r.
        if (c === CR) {
          if (i + 1 >= n && !final) return start === 0 ? 0 : this.commit(start, line);
          i += i + 1 < n && s.charCodeAt(i + 1) === LF ? 2 : 1;
        } else i++;
        lines++;
        complete = true;
        break;
      }
      if (!complete) break;
      // A blank line is not a record.
      if (!(fields.length === 1 && fields[0] === '')) {
        this.records++;
        this.sink(fields, line);
      }
      line += lines;
      start = i;
    }
    this.line = line;
    return start;
  }

  private commit(consumed: number, line: number): number {
    this.line = line;
    return consumed;
  }
}

/** A CSV's records into the assembler: the first names the columns, unless `header` is false (then they are column_1, column_2, …). */
export function csvRows(asm: TableAssembler, header: boolean): RowSink {
  return (fields, line) => {
    if (!asm.hasHeader && !header) asm.setHeader(fields.map((_, i) => `column_${i + 1}`));
    asm.add(fields, line);
  };
}

/** A CSV/TSV file decoded by `decoder` and tokenized as text; the delimiter is chosen from the start of the text. */
export function csvTextReader(asm: TableAssembler, opts: IngestOptions, format: Format, decoder: TextDecoder): RowReader {
  const rows = csvRows(asm, opts.header ?? true);
  let tok: CsvTokenizer | undefined;
  let delimiter: string | undefined;
  const feed = (text: string) => {
    if (!tok) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      delimiter = chooseDelimiter(opts, format, text.slice(0, 65536));
      tok = new CsvTokenizer({ delimiter }, rows);
    }
    tok.push(text);
  };
  return {
    push: (piece) => feed(decoder.decode(piece, { stream: true })),
    finish: () => {
      feed(decoder.decode());
      tok?.finish();
    },
    get delimiter() {
      return delimiter;
    },
  };
}
