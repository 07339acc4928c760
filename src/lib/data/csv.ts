/**
 * A streaming CSV/TSV tokenizer (RFC 4180, plus what real files do: `\r\n` or `\n`, a BOM,
 * quoted fields with `""` escapes and embedded newlines). Text arrives in chunks of any size; each
 * complete record is handed on as an array of field strings with the line it started on.
 */
import { IngestError } from './errors.ts';

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

/** Picks the delimiter of a sample: the candidate that splits the first lines most consistently. */
export function detectDelimiter(sample: string): string {
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
