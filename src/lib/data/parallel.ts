/**
 * Large CSV/TSV files read on several threads at once, into exactly the table one `ingest` builds.
 *
 * The file is cut into byte ranges at line ends, one per lane. The first range reads the header
 * and infers the types from its first rows, as a whole file would; the others start as soon as it
 * has them. Each range is read by `ingestPart` on a lane (a worker in the app, src/app/lanes.ts;
 * this thread in Node and in tests), and the parts are joined: numbers end to end, text through
 * one dictionary in the order its words first appear, line numbers counted on from the part before.
 *
 * A cut is a guess, since a line end inside a quoted field is not a record's end. The part before
 * a cut knows (its bytes end inside a record: `cut`), and the file is then read whole. A file whose
 * first rows hold newlines inside quotes is read whole from the start, as is any file that is not
 * UTF-8 CSV/TSV (JSON lines, Parquet, Latin-1: those are read whole on one lane). A column that a
 * part turns into text (a value that does not fit its type) is text in every part: the parts before
 * hold its values as ingest would write them, and the parts after are read again with the column
 * as text, so that they keep the raw values ingest would.
 */
import type { ColumnType } from '../sandbox/index.ts';
import { fitted, valueText, type BuiltColumn } from './columns.ts';
import { IngestError } from './errors.ts';
import { endWarnings, fingerprintColumns, ingest, ingestPart, sniffFile, tableName, type IngestedTable, type IngestOptions, type PartOutcome, type PartSpec, type Source } from './ingest.ts';
import { PIECE } from './pieces.ts';

/** What can travel to a lane with a request: no callbacks, no signal (those stay with the caller). */
export type LaneOptions = Omit<IngestOptions, 'signal' | 'onProgress'>;

/** A lane's view of one request: how to stop it, and where its progress goes. */
export interface LaneRun {
  signal?: AbortSignal;
  /** Bytes of the request's range read so far. */
  onBytes?: (bytes: number) => void;
}

/** Where files and parts of files are read. */
export interface IngestLanes {
  /** How many parts may usefully be read at once. */
  readonly width: number;
  /** `ingest` of a whole file (any format). */
  whole(file: Blob, name: string, opts: LaneOptions, run: LaneRun): Promise<IngestedTable>;
  /** `ingestPart` of `file[start, end)`. */
  part(file: Blob, start: number, end: number, opts: LaneOptions, spec: PartSpec, run: LaneRun): Promise<PartOutcome>;
}

/** A Blob as ingest's Source. */
export function blobSource(blob: Blob, name: string): Source {
  return { name, size: blob.size, stream: () => blob.stream(), slice: (s, e) => blob.slice(s, e) };
}

/** Lanes on the calling thread: the same results, for Node, the CLI and tests of the joining. */
export function localLanes(width = 1): IngestLanes {
  const options = (opts: LaneOptions, run: LaneRun): IngestOptions => ({ ...opts, signal: run.signal, onProgress: run.onBytes && ((n) => run.onBytes!(n)) });
  return {
    width,
    whole: (file, name, opts, run) => ingest(blobSource(file, name), options(opts, run)),
    part: (file, start, end, opts, spec, run) => ingestPart(blobSource(file.slice(start, end), ''), options(opts, run), spec),
  };
}

let installed: IngestLanes | undefined;

/** Installs (or, with `undefined`, removes) the lanes that `ingestFile` reads files on. */
export function useIngestLanes(lanes: IngestLanes | undefined): void {
  installed = lanes;
}

/** The smallest part worth reading on its own. */
const MIN_PART = 4 * 1024 * 1024;
/**
 * Parts per lane. More parts than lanes balance the lanes (a lane that is done takes the next
 * part), but each part starts its dictionaries empty and sizes its columns anew: measured on the
 * real data, two a lane loaded at 0.91× the split baseline, one a lane at 1.08×.
 */
const PARTS_PER_LANE = 1;

/** How a file is cut (the defaults suit any file; tests cut small files into many parts). */
export interface SplitOptions {
  /** The smallest part (default 4 MiB). */
  minPart?: number;
  /** How many parts at most (default one per lane). */
  parts?: number;
}

/**
 * Loads a file the owner picked: on the installed lanes when there are any (a large UTF-8 CSV in
 * parts at once, anything else whole on one lane), otherwise on this thread. The result is the
 * table `ingest` gives for the same file and options, byte for byte.
 * @throws {IngestError} as `ingest` does, with the file's own line numbers.
 */
export async function ingestFile(file: Blob, name: string, opts: IngestOptions = {}, lanes = installed, split: SplitOptions = {}): Promise<IngestedTable> {
  if (!lanes) return ingest(blobSource(file, name), opts);
  if (opts.signal?.aborted) throw cancelled();
  // Progress only goes forward: a part read again, or the whole file read after a cut inside
  // quotes, shows as a pause, not as a step back.
  let shown = 0;
  const onProgress = (n: number, total: number | undefined) => {
    if (n <= shown) return;
    shown = n;
    opts.onProgress?.(n, total);
  };
  try {
    return await onLanes(file, name, { ...opts, onProgress }, lanes, split);
  } catch (e) {
    // Workers that cannot start (their script did not load) must not leave the owner unable to
    // load a table: the page reads it itself. A worker that fails once reading has begun is an
    // error (it may have run out of memory, which the page would too).
    if (e instanceof IngestError && e.code === 'crashed' && shown === 0) return ingest(blobSource(file, name), opts);
    throw e;
  }
}

async function onLanes(file: Blob, name: string, opts: IngestOptions, lanes: IngestLanes, split: SplitOptions): Promise<IngestedTable> {
  const { signal, onProgress, ...laneOpts } = opts;
  const whole = () => lanes.whole(file, name, laneOpts, { signal, onBytes: onProgress && ((n) => onProgress(n, file.size)) });
  const count = Math.min(split.parts ?? lanes.width * PARTS_PER_LANE, Math.floor(file.size / (split.minPart ?? MIN_PART)));
  if (count < 2 || lanes.width < 2) return whole();
  const first = new Uint8Array(await file.slice(0, PIECE).arrayBuffer());
  const sniffed = sniffFile(name, first, opts);
  if (sniffed.delimiter === undefined) return whole();
  const cuts = await lineStarts(file, count);
  if (!cuts) return whole();
  const read = await readParts(file, cuts, sniffed.delimiter, laneOpts, lanes, signal, onProgress);
  if (!read) return whole();
  const { outcomes, offsets, names } = read;
  const rows = outcomes.reduce((n, o) => n + o.rows, 0);
  if (rows === 0) throw new IngestError('header-only', 'the file has a header but no rows');
  const columns = names.map((_, c) =>
    joinColumn(
      outcomes.map((o) => o.columns[c]!),
      outcomes.map((o) => o.rows),
      offsets,
    ),
  );
  const padded = outcomes.findIndex((o) => o.padded !== undefined);
  const warnings = [...outcomes[0]!.warnings, ...endWarnings(columns, padded < 0 ? undefined : outcomes[padded]!.padded! + offsets[padded]!)];
  return {
    name: opts.name ?? tableName(name),
    rowCount: rows,
    columns,
    fingerprint: opts.fingerprint === false ? '' : await fingerprintColumns(rows, columns),
    report: { format: sniffed.format, delimiter: sniffed.delimiter, encoding: sniffed.label!, bytes: file.size, rows, warnings },
  };
}

/**
 * Where `count` parts of the file start: the first line start at or after each even share (the
 * file's start and end included), or null when a share holds no line end within a piece.
 */
async function lineStarts(file: Blob, count: number): Promise<number[] | null> {
  const starts = await Promise.all(
    Array.from({ length: count - 1 }, async (_, k) => {
      const at = Math.floor((file.size * (k + 1)) / count);
      const bytes = new Uint8Array(await file.slice(at - 1, at - 1 + PIECE).arrayBuffer());
      const nl = bytes.indexOf(10);
      return nl < 0 ? -1 : at + nl;
    }),
  );
  const cuts = [0, ...starts, file.size];
  for (let k = 1; k < cuts.length; k++) if (cuts[k]! <= cuts[k - 1]! || cuts[k]! < 0) return null;
  return cuts;
}

interface Split {
  outcomes: PartOutcome[];
  /** Per part: the lines before it (its line numbers are its own). */
  offsets: number[];
  names: string[];
}

/**
 * Reads the parts, each on a lane, and checks that every cut fell between records. Null when the
 * file must be read whole instead: a cut fell inside quotes, the first rows hold newlines inside
 * quotes, or the first part is too short for the whole sample the types are inferred from.
 * @throws {IngestError} the first failing part's error, at the file's line numbers.
 */
async function readParts(file: Blob, cuts: number[], delimiter: string, opts: LaneOptions, lanes: IngestLanes, signal: AbortSignal | undefined, onProgress: IngestOptions['onProgress']): Promise<Split | null> {
  const n = cuts.length - 1;
  // A part that fails stops the parts after it (their results no longer matter); the parts before
  // it still end, since an earlier error comes first and their lines place this one's.
  const stops = cuts.slice(1).map(() => new AbortController());
  const stopFrom = (k: number) => stops.slice(k).forEach((s) => s.abort());
  const onAbort = () => stopFrom(0);
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) onAbort(); // (aborted while the file's start was being read)
  const read = new Array<number>(n).fill(0);
  const run = (k: number): LaneRun => ({
    signal: stops[k]!.signal,
    onBytes: (b) => {
      read[k] = b;
      onProgress?.(
        read.reduce((s, x) => s + x, 0),
        file.size,
      );
    },
  });
  const partOf = (k: number, spec: PartSpec) => lanes.part(file, cuts[k]!, cuts[k + 1]!, opts, spec, run(k));
  try {
    let announce!: (found: Parameters<NonNullable<PartSpec['onTypes']>>[0] | undefined) => void;
    const announced = new Promise<Parameters<NonNullable<PartSpec['onTypes']>>[0] | undefined>((r) => (announce = r));
    const first = partOf(0, { delimiter, last: n === 1, onTypes: announce, room: file.size });
    // (The part's own result has the types too, in case it ends before their message arrives.)
    first.then(
      (o) => announce(o.found),
      () => announce(undefined),
    );
    // The later parts start once the first has the types. (Started at once, keeping their records
    // until then, they were no faster and held up to twice the memory.)
    const found = await announced;
    if (!found || !found.complete || found.multiline) {
      stopFrom(0);
      // An error in the header or the first rows is the file's error, whatever else is true.
      const settled = await first.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (settled && !(settled instanceof IngestError && settled.code === 'cancelled')) throw settled;
      if (signal?.aborted) throw cancelled();
      return null;
    }
    const columns = { names: found.names, types: found.types };
    // The later parts go to whichever lane is free: `width - 1` take one now, the first part's
    // lane joins when that part ends, and each lane takes the next part left when it is done.
    const later = cuts.slice(1, -1).map(() => {
      let resolve!: (o: PartOutcome) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<PartOutcome>((res, rej) => ((resolve = res), (reject = rej)));
      return { promise, resolve, reject };
    });
    const parts = [first, ...later.map((d) => d.promise)];
    let next = 1;
    const lane = async () => {
      while (next < n) {
        const k = next++;
        const d = later[k - 1]!;
        if (stops[k]!.signal.aborted) d.reject(cancelled());
        else await partOf(k, { delimiter, last: k === n - 1, columns }).then(d.resolve, d.reject);
      }
    };
    void first.then(lane, lane);
    for (let i = 1; i < lanes.width; i++) void lane();
    // A part that fails, or ends inside a record, makes the parts after it pointless.
    parts.forEach((p, k) =>
      p.then(
        (o) => o.cut && stopFrom(k + 1),
        () => stopFrom(k + 1),
      ),
    );
    const settled = await Promise.allSettled(parts);
    if (signal?.aborted) throw cancelled();
    const outcomes: PartOutcome[] = [];
    const offsets: number[] = [];
    let lines = 0;
    for (let k = 0; k < n; k++) {
      const s = settled[k]!;
      if (s.status === 'rejected') {
        if (signal?.aborted) throw cancelled();
        throw rebase(s.reason, lines);
      }
      // Not a record's end: the line end this part stopped at was inside quotes.
      if (k < n - 1 && s.value.cut) return null;
      outcomes.push(s.value);
      offsets.push(lines);
      lines += s.value.lines;
    }
    // A column turned into text in part k holds raw text from there on: later parts read it as
    // text from their start (all of them read again at once).
    const again = outcomes.map(() => new Set<number>());
    const { names, types } = columns;
    names.forEach((_, c) => {
      const at = outcomes.findIndex((o) => o.columns[c]!.demoted);
      if (at >= 0) for (let k = at + 1; k < n; k++) again[k]!.add(c);
    });
    await Promise.all(
      again.map(async (cols, k) => {
        if (!cols.size) return;
        const asText = types.map((t, c): ColumnType => (cols.has(c) ? 'string' : t));
        outcomes[k] = await partOf(k, { delimiter, last: k === n - 1, columns: { names, types: asText } }).catch((e: unknown) => {
          throw signal?.aborted ? cancelled() : rebase(e, offsets[k]!);
        });
      }),
    );
    return { outcomes, offsets, names };
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stopFrom(0); // nothing is left running, whatever happened
  }
}

function cancelled(): IngestError {
  return new IngestError('cancelled', 'loading was cancelled; nothing was stored');
}

/** A part's error at the file's line numbers (the part's lines start after `offset` lines). */
function rebase(e: unknown, offset: number): unknown {
  if (!(e instanceof IngestError) || e.line === undefined || offset === 0) return e;
  const line = e.line + offset;
  return new IngestError(e.code, e.message.replace(`line ${e.line}`, `line ${line}`), line);
}

/** The column's array for `total` values: the first part's own array when it has room (see PartSpec.room), else a new one. */
function arrayFor<T extends Int32Array | Float64Array | Uint8Array>(Ctor: { new (b: ArrayBuffer, o: number, n: number): T; new (n: number): T; BYTES_PER_ELEMENT: number }, first: ArrayBufferView | undefined, total: number): { array: T; inPlace: boolean } {
  if (first && first.constructor === Ctor && first.byteOffset === 0 && first.buffer.byteLength >= total * Ctor.BYTES_PER_ELEMENT) return { array: new Ctor(first.buffer as ArrayBuffer, 0, total), inPlace: true };
  return { array: new Ctor(total), inPlace: false };
}

/**
 * One column from its parts, as one ColumnBuilder would have built it from all the rows: numbers
 * end to end (Float64 if any part needed it); text through one dictionary in first-seen order, with
 * one-byte codes only when it has at most 256 words and was text from the start (a column turned
 * into text has Int32 codes, as ColumnBuilder gives it), missing text as -1 in Int32 codes. The
 * later parts go into the first part's arrays when those have room, so the table is not copied.
 */
export function joinColumn(parts: BuiltColumn[], rows: number[], offsets: number[]): BuiltColumn {
  const total = rows.reduce((a, b) => a + b, 0);
  const { name } = parts[0]!;
  const validFor = parts.some((p) => p.valid) ? arrayFor(Uint8Array, parts[0]!.valid, total) : undefined;
  const valid = validFor?.array;
  const putValid = (k: number, o: number) => {
    if (!valid || (k === 0 && validFor.inPlace)) return;
    const v = parts[k]!.valid;
    if (v) valid.set(v.subarray(0, rows[k]!), o);
    else valid.fill(1, o, o + rows[k]!);
  };
  if (!parts.some((p) => p.type === 'string')) {
    const type = parts[0]!.type;
    const Ctor = type === 'bool' ? Uint8Array : type === 'int' && parts.every((p) => p.values instanceof Int32Array) ? Int32Array : Float64Array;
    const { array: values, inPlace } = arrayFor<Int32Array | Float64Array | Uint8Array>(Ctor, parts[0]!.values, total);
    let o = 0;
    parts.forEach((p, k) => {
      if (k > 0 || !inPlace) values.set(p.values.subarray(0, rows[k]!), o);
      putValid(k, o);
      o += rows[k]!;
    });
    return { name, type, values: fitted(values, total), ...(valid ? { valid: fitted(valid, total) } : {}) };
  }
  const words: string[] = [];
  const index = new Map<string, number>();
  const codeOf = (w: string) => {
    let c = index.get(w);
    if (c === undefined) {
      c = words.length;
      index.set(w, c);
      words.push(w);
    }
    return c;
  };
  // First every part's codes in the joined dictionary (so its size, and the codes' width, are
  // known): a part still holding numbers is turned into text row by row, a text part is mapped
  // word by word.
  const mapped = parts.map((p, k) => {
    if (p.type !== 'string') {
      const codes = new Int32Array(rows[k]!);
      for (let i = 0; i < codes.length; i++) codes[i] = p.valid && !p.valid[i] ? -1 : codeOf(valueText(p.type, p.values[i]!));
      return { codes };
    }
    return { remap: Int32Array.from(p.dictionary!, codeOf) };
  });
  const demotedAt = parts.findIndex((p) => p.demoted);
  const wide = demotedAt >= 0 || words.length > 256;
  // (The first part's words are the dictionary's first, in its order: its codes stand, in place.)
  const { array: values, inPlace } = arrayFor<Int32Array | Uint8Array>(wide ? Int32Array : Uint8Array, parts[0]!.type === 'string' ? parts[0]!.values : undefined, total);
  const missing = wide ? -1 : 0;
  let o = 0;
  parts.forEach((p, k) => {
    const m = mapped[k]!;
    const n = rows[k]!;
    const out = values.subarray(o, o + n);
    if (k === 0 && inPlace) {
      // Already there.
    } else if (m.codes) {
      for (let i = 0; i < n; i++) out[i] = m.codes[i]! < 0 ? missing : m.codes[i]!;
    } else if (k === 0 && p.values.constructor === values.constructor) {
      out.set(p.values.subarray(0, n));
    } else {
      // One table lookup per row: slot 0 is for -1 (missing in Int32 codes); missing rows of
      // one-byte codes (0 with `valid` 0) are set after.
      const table = new Int32Array(m.remap!.length + 1);
      table[0] = missing;
      table.set(m.remap!, 1);
      const v = p.values;
      for (let i = 0; i < n; i++) out[i] = table[v[i]! + 1]!;
      const ok = p.valid;
      if (ok && v instanceof Uint8Array) for (let i = 0; i < n; i++) if (!ok[i]) out[i] = missing;
    }
    putValid(k, o);
    o += n;
  });
  const col: BuiltColumn = { name, type: 'string', values: fitted(values, total), dictionary: words, ...(valid ? { valid: fitted(valid, total) } : {}) };
  if (demotedAt >= 0) {
    const d = parts[demotedAt]!.demoted!;
    col.demoted = { ...d, line: d.line + offsets[demotedAt]! };
  }
  return col;
}
