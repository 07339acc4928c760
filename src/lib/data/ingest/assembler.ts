/**
 * Row-by-row assembly shared by the readers: the header checked, the first rows sampled until the
 * column types are chosen (one event, `TypesChosen`), then every row into the column builders.
 */
import type { ColumnType } from '../../sandbox/index.ts';
import { grow } from '../columns/arrays.ts';
import { ColumnBuilder, type BuiltColumn } from '../columns/builder.ts';
import { TypeInference } from '../columns/infer.ts';
import { DEFAULT_MISSING, decodeBytes } from '../columns/scalars.ts';
import { IngestError } from '../errors.ts';
import type { IngestOptions, TypesChosen } from './types.ts';

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
export class TableAssembler {
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
  /** Told once the columns' types are chosen. */
  onTypes: ((found: TypesChosen) => void) | undefined;
  /** Whether a record read so far held a newline inside quotes (the CSV byte reader knows). */
  multiline: () => boolean = () => false;

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
    this.onTypes?.({ names, types: this.builders.map((b) => b.type), complete: !this.finishing, multiline: this.multiline(), warnings: [...this.warnings] });
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
