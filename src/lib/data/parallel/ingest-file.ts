/**
 * Large CSV/TSV files read on several threads at once, into exactly the table one `ingest` builds.
 *
 * The file is cut into byte ranges at line ends, one per lane. The first range reads the header
 * and infers the types from its first rows, as a whole file would; the others start as soon as it
 * has them. Each range is read by `ingestPart` on a lane (lanes.ts: a worker of the app's pool,
 * worker-lanes.ts; this thread in Node and in tests; the cutting and reading: split.ts), and the
 * parts are joined (join.ts): numbers end to end, text through one dictionary in the order its
 * words first appear, line numbers counted on from the part before.
 *
 * A cut is a guess, since a line end inside a quoted field is not a record's end. The part before
 * a cut knows (its bytes end inside a record: `cut`), and the file is then read whole. A file whose
 * first rows hold newlines inside quotes is read whole from the start, as is any file that is not
 * UTF-8 CSV/TSV (JSON lines, Parquet, Latin-1: those are read whole on one lane). A column that a
 * part turns into text (a value that does not fit its type) is text in every part: the parts before
 * hold its values as ingest would write them, and the parts after are read again with the column
 * as text, so that they keep the raw values ingest would.
 */
import { fingerprintColumns } from '../columns/fingerprint.ts';
import { IngestError } from '../errors.ts';
import { endWarnings } from '../ingest/assembler.ts';
import { ingest, tableName } from '../ingest/ingest.ts';
import { PIECE } from '../ingest/pieces.ts';
import { sniffFile } from '../ingest/sniff.ts';
import type { IngestedTable, IngestOptions } from '../ingest/types.ts';
import { joinColumn } from './join.ts';
import type { Trace } from '../../workers/index.ts';
import { blobSource, type IngestLanes } from './lanes.ts';
import { cancelled, lineStarts, readParts } from './split.ts';

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
 * Loads a file the owner picked: on `lanes` when given (a large UTF-8 CSV in parts at once,
 * anything else whole on one lane), otherwise on this thread. The result is the table `ingest`
 * gives for the same file and options, byte for byte.
 * @throws {IngestError} as `ingest` does, with the file's own line numbers.
 */
export async function ingestFile(file: Blob, name: string, opts: IngestOptions = {}, lanes?: IngestLanes, split: SplitOptions = {}, trace?: Trace): Promise<IngestedTable> {
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
    return await onLanes(file, name, { ...opts, onProgress }, lanes, split, trace);
  } catch (e) {
    // Workers that cannot start (their script did not load) must not leave the owner unable to
    // load a table: the page reads it itself. A worker that fails once reading has begun is an
    // error (it may have run out of memory, which the page would too).
    if (e instanceof IngestError && e.code === 'crashed' && shown === 0) return ingest(blobSource(file, name), opts);
    throw e;
  }
}

async function onLanes(file: Blob, name: string, opts: IngestOptions, lanes: IngestLanes, split: SplitOptions, trace: Trace | undefined): Promise<IngestedTable> {
  const { signal, onProgress, ...laneOpts } = opts;
  const since = (stage: string, t: number) => trace?.add('main', stage, performance.now() - t);
  const whole = () => lanes.whole(file, name, laneOpts, { signal, onBytes: onProgress && ((n) => onProgress(n, file.size)), trace });
  let t = performance.now();
  const count = Math.min(split.parts ?? lanes.width * PARTS_PER_LANE, Math.floor(file.size / (split.minPart ?? MIN_PART)));
  if (count < 2 || lanes.width < 2) return whole();
  const first = new Uint8Array(await file.slice(0, PIECE).arrayBuffer());
  const sniffed = sniffFile(name, first, opts);
  if (sniffed.delimiter === undefined) return whole();
  const cuts = await lineStarts(file, count);
  since('sniff and cut at line ends', t);
  if (!cuts) return whole();
  t = performance.now();
  const read = await readParts(file, cuts, sniffed.delimiter, laneOpts, lanes, signal, onProgress, trace);
  since('parts on the lanes (elapsed)', t);
  if (!read) return whole();
  t = performance.now();
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
  since('join the parts', t);
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
