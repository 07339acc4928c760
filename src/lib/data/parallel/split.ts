/**
 * A file cut into parts at line ends, the parts read on the lanes: the first part infers the types,
 * the later ones start once it has them, and every cut is checked to fall between records.
 */
import type { ColumnType } from '../../sandbox/index.ts';
import { IngestError } from '../errors.ts';
import { PIECE } from '../ingest/pieces.ts';
import type { IngestOptions, PartOutcome, PartSpec, TypesChosen } from '../ingest/types.ts';
import type { Trace } from '../../workers/index.ts';
import type { IngestLanes, LaneOptions, LaneRun } from './lanes.ts';

/**
 * Where `count` parts of the file start: the first line start at or after each even share (the
 * file's start and end included), or null when a share holds no line end within a piece.
 */
export async function lineStarts(file: Blob, count: number): Promise<number[] | null> {
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

export interface Split {
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
export async function readParts(file: Blob, cuts: number[], delimiter: string, opts: LaneOptions, lanes: IngestLanes, signal: AbortSignal | undefined, onProgress: IngestOptions['onProgress'], trace?: Trace): Promise<Split | null> {
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
    trace,
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
    let announce!: (found: TypesChosen | undefined) => void;
    const announced = new Promise<TypesChosen | undefined>((r) => (announce = r));
    const first = partOf(0, { delimiter, last: n === 1, onTypes: announce, room: file.size });
    // (The part's own result has the types too, in case it ends before their message arrives.)
    first.then(
      (o) => announce(o.found),
      () => announce(undefined),
    );
    // The later parts start once the first has the types. (Started at once, keeping their records
    // until then, they were no faster and held up to twice the memory.)
    const t = performance.now();
    const found = await announced;
    trace?.add('first part', 'until its types are known (elapsed; the later parts wait)', performance.now() - t);
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

export function cancelled(): IngestError {
  return new IngestError('cancelled', 'loading was cancelled; nothing was stored');
}

/** A part's error at the file's line numbers (the part's lines start after `offset` lines). */
function rebase(e: unknown, offset: number): unknown {
  if (!(e instanceof IngestError) || e.line === undefined || offset === 0) return e;
  const line = e.line + offset;
  return new IngestError(e.code, e.message.replace(`line ${e.line}`, `line ${line}`), line);
}
