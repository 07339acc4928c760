/**
 * Lanes: where files and parts of files are read. The app installs lanes on workers
 * (worker-lanes.ts); `localLanes` reads on the calling thread, with the same results.
 */
import { ingest, ingestPart } from '../ingest/ingest.ts';
import type { IngestedTable, IngestOptions, PartOutcome, PartSpec, Source } from '../ingest/types.ts';
import type { Trace } from '../../workers/index.ts';

/** What can travel to a lane with a request: no callbacks, no signal (those stay with the caller). */
export type LaneOptions = Omit<IngestOptions, 'signal' | 'onProgress'>;

/** A lane's view of one request: how to stop it, and where its progress goes. */
export interface LaneRun {
  signal?: AbortSignal;
  /** Bytes of the request's range read so far. */
  onBytes?: (bytes: number) => void;
  /** Where the time went: the lane's own time, and its reply's transit (the benchmarks' breakdown). */
  trace?: Trace;
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
