/** The owner's workflow for a picked file: read it into columns (on the lanes), then store it. */
import { fingerprintColumns } from './columns/fingerprint.ts';
import { IngestError } from './errors.ts';
import type { IngestOptions, IngestReport } from './ingest/types.ts';
import { ingestFile } from './parallel/ingest-file.ts';
import type { IngestLanes } from './parallel/lanes.ts';
import type { Trace } from '../workers/index.ts';
import { openForSave, type SaveInput, type TableMeta } from './store.ts';

export interface LoadOptions extends IngestOptions {
  /** Replace a stored table of the same name. */
  replace?: boolean;
  /** Where the file is read (the app's lanes: workers, a large CSV in parts at once); without, this thread. */
  lanes?: IngestLanes;
  /** Where the time went, stage by stage (the benchmarks' breakdown); nothing is measured without. */
  trace?: Trace;
}

/**
 * Loads a file the owner picked and stores it (the Tables tab, and `window.airlock.data`): ingest,
 * then the column chunks are written while the fingerprint's digests run.
 * @throws {IngestError} as ingest and the store do: the file's problem, `quota`, `bad-options`, `cancelled`.
 */
export async function loadFile(file: File, options: LoadOptions = {}): Promise<{ meta: TableMeta; report: IngestReport }> {
  const { replace, lanes, trace, ...rest } = options;
  const since = (stage: string, t: number) => trace?.add('main', stage, performance.now() - t);
  // The database opens while the file is read, not after.
  const t0 = performance.now();
  const store = openForSave();
  try {
    // On the app's lanes (workers) when given: the page stays responsive, and a large CSV is read
    // in parts at once (parallel/).
    const t = await ingestFile(file, file.name, { ...rest, fingerprint: false }, lanes, {}, trace);
    // (On lanes, ingestFile says where its own time went, stage by stage.)
    if (!lanes) since('read the file into columns', t0);
    if (rest.signal?.aborted) throw new IngestError('cancelled', 'loading was cancelled; nothing was stored');
    const fingerprint = async () => {
      const t1 = performance.now();
      try {
        return await fingerprintColumns(t.rowCount, t.columns);
      } finally {
        trace?.add('WebCrypto', 'fingerprint (elapsed)', performance.now() - t1);
      }
    };
    const t2 = performance.now();
    const input: SaveInput = { ...t, fingerprint, warnings: t.report.warnings, source: { file: file.name, bytes: t.report.bytes, format: t.report.format } };
    const meta = await store.save(input, { replace, signal: rest.signal });
    since('store in IndexedDB, with the fingerprint (elapsed)', t2);
    return { meta, report: t.report };
  } finally {
    store.close();
  }
}
